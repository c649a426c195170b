import { DataTypes, type CreationOptional, Model, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';
import { bigint, idAttr, initModel, str, timeAttr } from './attributes.ts';

// What is sold: plans, and the routers and pools each plan may be provisioned on.

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

/** Binds the plan models to a Sequelize instance. */
export function initPlanModels(sequelize: Sequelize): void {
  initModel(Plan, sequelize, 'plans', {
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
  initModel(
    PlanRouter,
    sequelize,
    'plan_routers',
    { planId: { type: bigint, primaryKey: true }, routerId: { type: bigint, primaryKey: true } },
    { timestamps: false },
  );
  initModel(
    PlanPool,
    sequelize,
    'plan_pools',
    { planId: { type: bigint, primaryKey: true }, poolId: { type: bigint, primaryKey: true } },
    { timestamps: false },
  );
}
