import { DataTypes, type CreationOptional, Model, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';
import { bigint, date, idAttr, initModel, str, timeAttr } from './attributes.ts';

// SMS messages sent (or waiting to be sent) to customers, with their delivery state.

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

/** Binds the SMS model to a Sequelize instance. */
export function initSmsModels(sequelize: Sequelize): void {
  initModel(
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
