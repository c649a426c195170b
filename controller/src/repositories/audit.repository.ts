import type { Transaction } from 'sequelize';
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

  /** Entries newest first, filtered; the count of all that match. */
  async list(filter: AuditFilter, limit: number, offset: number): Promise<{ rows: AuditRow[]; count: number }> {
    const conds: string[] = [];
    const bind: unknown[] = [];
    const param = (v: unknown) => {
      bind.push(v);
      return `$${bind.length}`;
    };
    if (filter.actor) conds.push(`lower(username) = lower(${param(filter.actor)})`);
    if (filter.entity) conds.push(`entity = ${param(filter.entity)}`);
    if (filter.entityId) conds.push(`entity_id = ${param(filter.entityId)}`);
    if (filter.action) conds.push(`action LIKE ${param(`${filter.action.replace(/[\\%_]/g, (m) => `\\${m}`)}%`)}`);
    // as instants: PostgreSQL refuses offsets past ±15:59 that ISO 8601 (and zod) allow
    if (filter.from) conds.push(`at >= ${param(new Date(filter.from).toISOString())}::timestamptz`);
    if (filter.to) conds.push(`at < ${param(new Date(filter.to).toISOString())}::timestamptz`);
    const where = conds.length > 0 ? `WHERE ${conds.join(' AND ')}` : '';
    const [rows, count] = await Promise.all([
      this.db.rows<AuditRow>(
        `SELECT id::text, at, username, action, entity, entity_id, details, request_id, ip FROM audit_log ${where} ORDER BY id DESC LIMIT ${Number(limit)} OFFSET ${Number(offset)}`,
        bind,
      ),
      this.db.rows<{ n: string }>(`SELECT count(*) AS n FROM audit_log ${where}`, bind),
    ]);
    return { rows, count: Number(count[0]?.n ?? 0) };
  }
}

/** Filters of the audit log viewer. */
export interface AuditFilter {
  actor?: string | undefined;
  entity?: string | undefined;
  entityId?: string | undefined;
  /** an action or its prefix ("customer." finds every customer action) */
  action?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

/** An audit entry as read back. */
export interface AuditRow {
  id: string;
  at: Date;
  username: string | null;
  action: string;
  entity: string;
  entity_id: string | null;
  details: Record<string, unknown>;
  request_id: string | null;
  ip: string | null;
}
