import type { Transaction } from 'sequelize';
import { AuditEntry } from '../db/models/index.ts';
import type { Database } from '../db/database.ts';

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
  constructor(private readonly db: Database) {}

  async append(r: AuditRecord, tx?: Transaction): Promise<void> {
    await this.db.exec(
      'INSERT INTO audit_log (user_id, username, action, entity, entity_id, details, request_id, ip) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [r.userId, r.username, r.action, r.entity, r.entityId, JSON.stringify(r.details), r.requestId, r.ip],
      tx,
    );
  }

  async list(filter: { entity?: string; entityId?: string; limit: number; offset: number }): Promise<{ rows: AuditEntry[]; count: number }> {
    const where: Record<string, string> = {};
    if (filter.entity) where.entity = filter.entity;
    if (filter.entityId) where.entityId = filter.entityId;
    return AuditEntry.findAndCountAll({ where, order: [['id', 'DESC']], limit: filter.limit, offset: filter.offset });
  }
}
