import { DataTypes, type Model, type ModelAttributes, type Sequelize } from 'sequelize';

// What every model file shares: the attribute shapes the tables repeat and the one way a model is
// bound. BIGINT ids and amounts are strings (see db/sequelize.ts).

export const str = DataTypes.TEXT;
export const bigint = DataTypes.BIGINT;
export const date = DataTypes.DATE;

// Fresh objects each time: Sequelize writes into attribute definitions, so they must not be shared.
export const idAttr = () => ({ type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true });
export const timeAttr = () => ({ type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW });

/** Binds one model to its table, with snake_case columns. */
export function initModel<M extends Model>(
  model: { init(attrs: ModelAttributes<M>, options: object): unknown },
  sequelize: Sequelize,
  tableName: string,
  attrs: ModelAttributes<M>,
  options: object = {},
) {
  model.init(attrs, { sequelize, tableName, underscored: true, ...options });
}
