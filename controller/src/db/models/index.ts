import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type ModelAttributes, type Sequelize } from 'sequelize';

// Models mirror the migrations; they never create or alter tables. Only repositories import them.
// BIGINT ids and amounts are strings (see db/sequelize.ts).

// Fresh objects each time: Sequelize writes into attribute definitions, so they must not be shared.
const idAttr = () => ({ type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true });
const timeAttr = () => ({ type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW });

export class User extends Model<InferAttributes<User>, InferCreationAttributes<User>> {
  declare id: CreationOptional<string>;
  declare username: string;
  declare passwordHash: string;
  declare role: 'admin' | 'staff' | 'noc';
  declare fullName: string | null;
  declare disabled: CreationOptional<boolean>;
  declare lastLoginAt: Date | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export class Session extends Model<InferAttributes<Session>, InferCreationAttributes<Session>> {
  declare id: string;
  declare userId: string;
  declare createdAt: CreationOptional<Date>;
  declare lastSeenAt: CreationOptional<Date>;
  declare expiresAt: Date;
  declare ip: string | null;
  declare userAgent: string | null;
}

export class ApiToken extends Model<InferAttributes<ApiToken>, InferCreationAttributes<ApiToken>> {
  declare id: CreationOptional<string>;
  declare userId: string;
  declare name: string;
  declare tokenHash: string;
  declare createdAt: CreationOptional<Date>;
  declare lastUsedAt: Date | null;
  declare expiresAt: Date | null;
  declare revokedAt: Date | null;
}

export class AuditEntry extends Model<InferAttributes<AuditEntry>, InferCreationAttributes<AuditEntry>> {
  declare id: CreationOptional<string>;
  declare at: CreationOptional<Date>;
  declare userId: string | null;
  declare username: string | null;
  declare action: string;
  declare entity: string;
  declare entityId: string | null;
  declare details: Record<string, unknown>;
  declare requestId: string | null;
  declare ip: string | null;
}

export class Setting extends Model<InferAttributes<Setting>, InferCreationAttributes<Setting>> {
  declare key: string;
  declare value: unknown;
  declare updatedAt: CreationOptional<Date>;
  declare updatedBy: string | null;
}

export class Site extends Model<InferAttributes<Site>, InferCreationAttributes<Site>> {
  declare id: CreationOptional<string>;
  declare name: string;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export class EnrollmentToken extends Model<InferAttributes<EnrollmentToken>, InferCreationAttributes<EnrollmentToken>> {
  declare id: CreationOptional<string>;
  declare siteId: string;
  declare tokenHash: string;
  declare expiresAt: Date;
  declare usedAt: Date | null;
  declare usedByAgent: string | null;
  declare createdBy: string | null;
  declare createdAt: CreationOptional<Date>;
}

export class Agent extends Model<InferAttributes<Agent>, InferCreationAttributes<Agent>> {
  declare id: string;
  declare siteId: string;
  declare publicKey: string;
  declare hostname: string | null;
  declare version: string | null;
  declare capability: number | null;
  declare nextSeq: CreationOptional<string>;
  declare lastAckedSeq: CreationOptional<string>;
  declare connectedInstance: string | null;
  declare connectedAt: Date | null;
  declare lastSeenAt: Date | null;
  declare revokedAt: Date | null;
  declare createdAt: CreationOptional<Date>;
}

export class RouterModel extends Model<InferAttributes<RouterModel>, InferCreationAttributes<RouterModel>> {
  declare id: CreationOptional<string>;
  declare siteId: string;
  declare name: string;
  declare host: string | null;
  declare reachable: boolean | null;
  declare version: string | null;
  declare identity: string | null;
  declare lastError: string | null;
  declare checkedAt: Date | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export class Pool extends Model<InferAttributes<Pool>, InferCreationAttributes<Pool>> {
  declare id: CreationOptional<string>;
  declare name: string;
  declare routerId: string;
  declare gateway: string | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export class Network extends Model<InferAttributes<Network>, InferCreationAttributes<Network>> {
  declare id: CreationOptional<string>;
  declare poolId: string;
  declare cidr: string;
  declare createdAt: CreationOptional<Date>;
}

export class PoolReserved extends Model<InferAttributes<PoolReserved>, InferCreationAttributes<PoolReserved>> {
  declare id: CreationOptional<string>;
  declare poolId: string;
  declare firstIp: string;
  declare lastIp: string;
}

export class Plan extends Model<InferAttributes<Plan>, InferCreationAttributes<Plan>> {
  declare id: CreationOptional<string>;
  declare name: string;
  declare connectionType: 'pppoe' | 'hotspot' | 'static';
  declare priceMinor: string;
  declare downloadSpeed: string;
  declare uploadSpeed: string;
  declare validityCount: number;
  declare validityUnit: 'minutes' | 'hours' | 'days' | 'months';
  declare dataLimitBytes: string | null;
  declare sharedUsers: number | null;
  declare archived: CreationOptional<boolean>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export class PlanRouter extends Model<InferAttributes<PlanRouter>, InferCreationAttributes<PlanRouter>> {
  declare planId: string;
  declare routerId: string;
}

export class PlanPool extends Model<InferAttributes<PlanPool>, InferCreationAttributes<PlanPool>> {
  declare planId: string;
  declare poolId: string;
}

export class Customer extends Model<InferAttributes<Customer>, InferCreationAttributes<Customer>> {
  declare id: CreationOptional<string>;
  declare connectionType: 'pppoe' | 'hotspot' | 'static';
  declare planId: string;
  declare networkId: string | null;
  declare ipAddress: string | null;
  declare fullName: string;
  declare phone: string;
  declare email: string | null;
  declare username: string;
  declare passwordEnc: string;
  declare accountNumber: string;
  declare additionalAccountNumber: string | null;
  declare status: 'inactive' | 'active' | 'expired' | 'suspended';
  declare expiresAt: Date | null;
  declare activatedAt: Date | null;
  declare balanceMinor: CreationOptional<string>;
  declare nextPlanId: CreationOptional<string | null>;
  declare createdBy: string | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export class ProvisioningJob extends Model<InferAttributes<ProvisioningJob>, InferCreationAttributes<ProvisioningJob>> {
  declare id: CreationOptional<string>;
  declare routerId: string;
  declare customerId: string | null;
  declare planId: string | null;
  declare type: string;
  declare reason: string;
  declare payload: CreationOptional<Record<string, unknown>>;
  declare status: CreationOptional<'pending' | 'sent' | 'applied' | 'failed'>;
  declare attempts: CreationOptional<number>;
  declare nextAttemptAt: CreationOptional<Date>;
  declare expiresAt: Date;
  declare agentId: CreationOptional<string | null>;
  declare commandId: CreationOptional<string | null>;
  declare seq: CreationOptional<string | null>;
  declare sentAt: CreationOptional<Date | null>;
  declare completedAt: CreationOptional<Date | null>;
  declare lastError: CreationOptional<string | null>;
  declare routerError: CreationOptional<string | null>;
  declare result: CreationOptional<Record<string, unknown> | null>;
  declare createdBy: string | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export class JobEvent extends Model<InferAttributes<JobEvent>, InferCreationAttributes<JobEvent>> {
  declare id: CreationOptional<string>;
  declare jobId: string;
  declare at: CreationOptional<Date>;
  declare kind: string;
  declare message: string;
  declare routerError: string | null;
  declare agentId: string | null;
  declare commandId: string | null;
  declare data: Record<string, unknown> | null;
}

export class SmsMessage extends Model<InferAttributes<SmsMessage>, InferCreationAttributes<SmsMessage>> {
  declare id: CreationOptional<string>;
  declare customerId: string | null;
  declare toPhone: string;
  declare body: string;
  declare provider: string;
  declare status: string;
  declare providerMessageId: string | null;
  declare providerStatus: string | null;
  declare cost: string | null;
  declare error: string | null;
  declare kind: CreationOptional<string>;
  declare dedupeKey: CreationOptional<string | null>;
  declare attempts: CreationOptional<number>;
  declare nextAttemptAt: CreationOptional<Date | null>;
  declare sentAt: CreationOptional<Date | null>;
  declare deliveredAt: CreationOptional<Date | null>;
  declare failureReason: CreationOptional<string | null>;
  declare createdBy: string | null;
  declare createdAt: CreationOptional<Date>;
}

function init<M extends Model>(
  model: { init(attrs: ModelAttributes<M>, options: object): unknown },
  sequelize: Sequelize,
  tableName: string,
  attrs: ModelAttributes<M>,
  options: object = {},
) {
  model.init(attrs, { sequelize, tableName, underscored: true, ...options });
}

/** Binds every model to a Sequelize instance. */
export function initModels(sequelize: Sequelize): void {
  const str = DataTypes.TEXT;
  const bigint = DataTypes.BIGINT;
  const date = DataTypes.DATE;
  init(User, sequelize, 'users', {
    id: idAttr(),
    username: { type: str, allowNull: false },
    passwordHash: { type: str, allowNull: false },
    role: { type: str, allowNull: false },
    fullName: str,
    disabled: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    lastLoginAt: date,
    createdAt: timeAttr(),
    updatedAt: timeAttr(),
  });
  init(
    Session,
    sequelize,
    'sessions',
    {
      id: { type: str, primaryKey: true },
      userId: { type: bigint, allowNull: false },
      createdAt: timeAttr(),
      lastSeenAt: timeAttr(),
      expiresAt: { type: date, allowNull: false },
      ip: str,
      userAgent: str,
    },
    { updatedAt: false },
  );
  init(
    ApiToken,
    sequelize,
    'api_tokens',
    {
      id: idAttr(),
      userId: { type: bigint, allowNull: false },
      name: { type: str, allowNull: false },
      tokenHash: { type: str, allowNull: false },
      createdAt: timeAttr(),
      lastUsedAt: date,
      expiresAt: date,
      revokedAt: date,
    },
    { updatedAt: false },
  );
  init(
    AuditEntry,
    sequelize,
    'audit_log',
    {
      id: idAttr(),
      at: timeAttr(),
      userId: bigint,
      username: str,
      action: { type: str, allowNull: false },
      entity: { type: str, allowNull: false },
      entityId: str,
      details: { type: DataTypes.JSONB, allowNull: false },
      requestId: str,
      ip: str,
    },
    { timestamps: false },
  );
  init(
    Setting,
    sequelize,
    'settings',
    {
      key: { type: str, primaryKey: true },
      value: { type: DataTypes.JSONB, allowNull: false },
      updatedAt: timeAttr(),
      updatedBy: bigint,
    },
    { createdAt: false },
  );
  init(Site, sequelize, 'sites', { id: idAttr(), name: { type: str, allowNull: false }, createdAt: timeAttr(), updatedAt: timeAttr() });
  init(
    EnrollmentToken,
    sequelize,
    'enrollment_tokens',
    {
      id: idAttr(),
      siteId: { type: bigint, allowNull: false },
      tokenHash: { type: str, allowNull: false },
      expiresAt: { type: date, allowNull: false },
      usedAt: date,
      usedByAgent: str,
      createdBy: bigint,
      createdAt: timeAttr(),
    },
    { updatedAt: false },
  );
  init(
    Agent,
    sequelize,
    'agents',
    {
      id: { type: str, primaryKey: true },
      siteId: { type: bigint, allowNull: false },
      publicKey: { type: str, allowNull: false },
      hostname: str,
      version: str,
      capability: DataTypes.INTEGER,
      nextSeq: { type: bigint, allowNull: false, defaultValue: 0 },
      lastAckedSeq: { type: bigint, allowNull: false, defaultValue: 0 },
      connectedInstance: str,
      connectedAt: date,
      lastSeenAt: date,
      revokedAt: date,
      createdAt: timeAttr(),
    },
    { updatedAt: false },
  );
  init(RouterModel, sequelize, 'routers', {
    id: idAttr(),
    siteId: { type: bigint, allowNull: false },
    name: { type: str, allowNull: false },
    host: str,
    reachable: DataTypes.BOOLEAN,
    version: str,
    identity: str,
    lastError: str,
    checkedAt: date,
    createdAt: timeAttr(),
    updatedAt: timeAttr(),
  });
  init(Pool, sequelize, 'pools', {
    id: idAttr(),
    name: { type: str, allowNull: false },
    routerId: { type: bigint, allowNull: false },
    gateway: DataTypes.INET,
    createdAt: timeAttr(),
    updatedAt: timeAttr(),
  });
  init(
    Network,
    sequelize,
    'networks',
    { id: idAttr(), poolId: { type: bigint, allowNull: false }, cidr: { type: DataTypes.CIDR, allowNull: false }, createdAt: timeAttr() },
    { updatedAt: false },
  );
  init(
    PoolReserved,
    sequelize,
    'pool_reserved',
    {
      id: idAttr(),
      poolId: { type: bigint, allowNull: false },
      firstIp: { type: DataTypes.INET, allowNull: false },
      lastIp: { type: DataTypes.INET, allowNull: false },
    },
    { timestamps: false },
  );
  init(Plan, sequelize, 'plans', {
    id: idAttr(),
    name: { type: str, allowNull: false },
    connectionType: { type: str, allowNull: false },
    priceMinor: { type: bigint, allowNull: false },
    downloadSpeed: { type: str, allowNull: false },
    uploadSpeed: { type: str, allowNull: false },
    validityCount: { type: DataTypes.INTEGER, allowNull: false },
    validityUnit: { type: str, allowNull: false },
    dataLimitBytes: bigint,
    sharedUsers: DataTypes.INTEGER,
    archived: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    createdAt: timeAttr(),
    updatedAt: timeAttr(),
  });
  init(
    PlanRouter,
    sequelize,
    'plan_routers',
    { planId: { type: bigint, primaryKey: true }, routerId: { type: bigint, primaryKey: true } },
    { timestamps: false },
  );
  init(PlanPool, sequelize, 'plan_pools', { planId: { type: bigint, primaryKey: true }, poolId: { type: bigint, primaryKey: true } }, { timestamps: false });
  init(Customer, sequelize, 'customers', {
    id: idAttr(),
    connectionType: { type: str, allowNull: false },
    planId: { type: bigint, allowNull: false },
    networkId: bigint,
    ipAddress: DataTypes.INET,
    fullName: { type: str, allowNull: false },
    phone: { type: str, allowNull: false },
    email: str,
    username: { type: str, allowNull: false },
    passwordEnc: { type: str, allowNull: false },
    accountNumber: { type: str, allowNull: false },
    additionalAccountNumber: str,
    status: { type: str, allowNull: false },
    expiresAt: date,
    activatedAt: date,
    balanceMinor: { type: bigint, allowNull: false, defaultValue: 0 },
    nextPlanId: bigint,
    createdBy: bigint,
    createdAt: timeAttr(),
    updatedAt: timeAttr(),
  });
  init(ProvisioningJob, sequelize, 'provisioning_jobs', {
    id: idAttr(),
    routerId: { type: bigint, allowNull: false },
    customerId: bigint,
    planId: bigint,
    type: { type: str, allowNull: false },
    reason: { type: str, allowNull: false },
    payload: { type: DataTypes.JSONB, allowNull: false, defaultValue: {} },
    status: { type: str, allowNull: false, defaultValue: 'pending' },
    attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    nextAttemptAt: { type: date, allowNull: false, defaultValue: DataTypes.NOW },
    expiresAt: { type: date, allowNull: false },
    agentId: str,
    commandId: str,
    seq: bigint,
    sentAt: date,
    completedAt: date,
    lastError: str,
    routerError: str,
    result: DataTypes.JSONB,
    createdBy: bigint,
    createdAt: timeAttr(),
    updatedAt: timeAttr(),
  });
  init(
    JobEvent,
    sequelize,
    'job_events',
    {
      id: idAttr(),
      jobId: { type: bigint, allowNull: false },
      at: timeAttr(),
      kind: { type: str, allowNull: false },
      message: { type: str, allowNull: false },
      routerError: str,
      agentId: str,
      commandId: str,
      data: DataTypes.JSONB,
    },
    { timestamps: false },
  );
  init(
    SmsMessage,
    sequelize,
    'sms_messages',
    {
      id: idAttr(),
      customerId: bigint,
      toPhone: { type: str, allowNull: false },
      body: { type: str, allowNull: false },
      provider: { type: str, allowNull: false },
      status: { type: str, allowNull: false },
      providerMessageId: str,
      providerStatus: str,
      cost: str,
      error: str,
      createdBy: bigint,
      createdAt: timeAttr(),
      kind: { type: str, allowNull: false, defaultValue: 'manual' },
      dedupeKey: str,
      attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      nextAttemptAt: date,
      sentAt: date,
      deliveredAt: date,
      failureReason: str,
    },
    { updatedAt: false },
  );
}
