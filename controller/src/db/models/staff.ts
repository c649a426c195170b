import { DataTypes, type CreationOptional, Model, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';
import { bigint, date, idAttr, initModel, str, timeAttr } from './attributes.ts';

// Staff accounts and what they leave behind: users, their sessions and API tokens, the audit log of
// what they did, and the settings they change.

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

/** Binds the staff models to a Sequelize instance. */
export function initStaffModels(sequelize: Sequelize): void {
  initModel(User, sequelize, 'users', {
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
  initModel(
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
  initModel(
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
  initModel(
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
  initModel(
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
}
