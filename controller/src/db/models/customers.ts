import { DataTypes, type CreationOptional, Model, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';
import { bigint, date, idAttr, initModel, str, timeAttr } from './attributes.ts';

// Customers: who they are, their plan and address, their status, expiry and balance.

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

/** Binds the customer model to a Sequelize instance. */
export function initCustomerModels(sequelize: Sequelize): void {
  initModel(Customer, sequelize, 'customers', {
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
}
