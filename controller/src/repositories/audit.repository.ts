import type { Transaction } from 'sequelize';
import { AuditEntry } from '../db/models/index.ts';

/** A row of the append-only audit log. */
export interface AuditRecord {
  userId: string | null;
  username: string | null;
  action: string;
  entity: string;
  entityId: string | null;
  details: Record<string, unknown>;
  requestId: string | null;
  ip: string | null;
}

export class AuditRepository {
  async append(record: AuditRecord, tx?: Transaction): Promise<void> {
    await AuditEntry.create(record, { transaction: tx });
  }

  async list(filter: { entity?: string; entityId?: string; limit: number; offset: number }): Promise<{ rows: AuditEntry[]; count: number }> {
    const where: Record<string, string> = {};
    if (filter.entity) where.entity = filter.entity;
    if (filter.entityId) where.entityId = filter.entityId;
    return AuditEntry.findAndCountAll({ where, order: [['id', 'DESC']], limit: filter.limit, offset: filter.offset });
  }
}
