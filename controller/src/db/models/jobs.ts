import { DataTypes, type CreationOptional, Model, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';
import { bigint, date, idAttr, initModel, str, timeAttr } from './attributes.ts';

// The provisioning outbox: jobs for the agents and the events that tell each job's story.

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
  /** What the applied ack said (the log's `applied` line, shown from the row). */
  declare outcome: CreationOptional<string | null>;
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

/** Binds the job models to a Sequelize instance. */
export function initJobModels(sequelize: Sequelize): void {
  initModel(ProvisioningJob, sequelize, 'provisioning_jobs', {
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
    outcome: str,
    createdBy: bigint,
    createdAt: timeAttr(),
    updatedAt: timeAttr(),
  });
  initModel(
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
}
