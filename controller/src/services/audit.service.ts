import type { Transaction } from 'sequelize';
import type { RequestMeta } from '../http/route.ts';
import type { AuditRepository } from '../repositories/audit.repository.ts';

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

  async record(meta: RequestMeta | null, action: string, entity: string, entityId: string | null, details: Record<string, unknown> = {}, tx?: Transaction): Promise<void> {
    await this.repo.append(
      {
        userId: meta?.actor.userId ?? null,
        username: meta?.actor.username ?? 'system',
        action,
        entity,
        entityId,
        details: scrubSecrets(details) as Record<string, unknown>,
        requestId: meta?.requestId ?? null,
        ip: meta?.ip ?? null,
      },
      tx,
    );
  }

  async list(filter: { entity?: string; entityId?: string; page: number; pageSize: number }) {
    const { rows, count } = await this.repo.list({ ...filter, limit: filter.pageSize, offset: (filter.page - 1) * filter.pageSize });
    return {
      items: rows.map((r) => ({
        id: r.id,
        at: r.at.toISOString(),
        username: r.username,
        action: r.action,
        entity: r.entity,
        entityId: r.entityId,
        details: r.details,
        requestId: r.requestId,
      })),
      total: count,
    };
  }
}
