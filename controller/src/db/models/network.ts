import { DataTypes, type CreationOptional, Model, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';
import { bigint, date, idAttr, initModel, str, timeAttr } from './attributes.ts';

// The network side: sites, the agents enrolled at them (and the tokens that enrol them), routers,
// and the address pools with their networks and reserved ranges.

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

/** Binds the network models to a Sequelize instance. */
export function initNetworkModels(sequelize: Sequelize): void {
  initModel(Site, sequelize, 'sites', { id: idAttr(), name: { type: str, allowNull: false }, createdAt: timeAttr(), updatedAt: timeAttr() });
  initModel(
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
  initModel(
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
  initModel(RouterModel, sequelize, 'routers', {
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
  initModel(Pool, sequelize, 'pools', {
    id: idAttr(),
    name: { type: str, allowNull: false },
    routerId: { type: bigint, allowNull: false },
    gateway: DataTypes.INET,
    createdAt: timeAttr(),
    updatedAt: timeAttr(),
  });
  initModel(
    Network,
    sequelize,
    'networks',
    { id: idAttr(), poolId: { type: bigint, allowNull: false }, cidr: { type: DataTypes.CIDR, allowNull: false }, createdAt: timeAttr() },
    { updatedAt: false },
  );
  initModel(
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
}
