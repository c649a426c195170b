import type { Transaction } from 'sequelize';
import type { RequestMeta } from '../http/route.ts';
import type { AuditEntryView } from '@mtandao/protocol/api';
import type { AuditFilter, AuditRecord, AuditRepository } from '../repositories/audit.repository.ts';

/** Keys whose values never reach the audit log. */
const SECRET_KEYS = /password|token|apikey|secret|privatekey/i;

/** Drops secrets from details (recursively) before they are written. */
export function scrubSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrubSecrets);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEYS.test(k) ? '[redacted]' : scrubSecrets(v)]));
  }
  return value;
}

/** Writes the append-only audit trail: every write and every password reveal. */
export class AuditService {
  constructor(private readonly repo: AuditRepository) {}

  async record(
    meta: RequestMeta | null,
    action: string,
    entity: string,
    entityId: string | null,
    details: Record<string, unknown> = {},
    tx?: Transaction,
  ): Promise<void> {
    await this.repo.append(this.entry(meta, action, entity, entityId, details), tx);
  }

  /** The row `record` writes, for a repository that writes it within its own statement (secrets already dropped). */
  entry(meta: RequestMeta | null, action: string, entity: string, entityId: string | null, details: Record<string, unknown> = {}): AuditRecord {
    return {
      userId: meta?.actor.userId ?? null,
      username: meta?.actor.username ?? 'system',
      action,
      entity,
      entityId,
      details: scrubSecrets(details) as Record<string, unknown>,
      requestId: meta?.requestId ?? null,
      ip: meta?.ip ?? null,
    };
  }

  async list(filter: AuditFilter & { page: number; pageSize: number }): Promise<{ items: AuditEntryView[]; total: number }> {
    const { rows, count } = await this.repo.list(filter, filter.pageSize, (filter.page - 1) * filter.pageSize);
    return {
      items: rows.map((r) => ({
        id: String(r.id),
        at: new Date(r.at).toISOString(),
        username: r.username,
        action: r.action,
        entity: r.entity,
        entityId: r.entity_id,
        details: typeof r.details === 'string' ? (JSON.parse(r.details) as Record<string, unknown>) : r.details,
        requestId: r.request_id,
        ip: r.ip,
      })),
      total: count,
    };
  }
}
