import { EventEmitter } from 'node:events';
import type { JobView } from '@mtandao/protocol/api';
import type { Transaction } from 'sequelize';
import { afterCommit } from '../db/database.ts';
import { notFound } from '../errors.ts';
import type { JobFilter, JobRow, JobsRepository, NewJob } from '../repositories/jobs.repository.ts';

const iso = (d: Date | string | null): string | null => (d ? new Date(d).toISOString() : null);

/** A job as the API shows it. */
export function jobView(r: JobRow): JobView {
  return {
    id: String(r.id),
    type: r.type,
    reason: r.reason,
    status: r.status,
    attempts: r.attempts,
    routerId: String(r.router_id),
    routerName: r.router_name,
    siteId: String(r.site_id),
    siteName: r.site_name ?? '',
    customerId: r.customer_id ? String(r.customer_id) : null,
    customerUsername: r.customer_username ?? (typeof r.payload?.username === 'string' ? r.payload.username : null),
    planId: r.plan_id ? String(r.plan_id) : null,
    agentId: r.agent_id,
    commandId: r.command_id,
    seq: r.seq === null ? null : String(r.seq),
    lastError: r.last_error,
    routerError: r.router_error,
    // an adoption scan's page holds router passwords until the scan takes it: never shown
    result: r.result && 'found' in r.result ? { ...r.result, found: `${(r.result.found as unknown[]).length} entries (being stored)` } : r.result,
    nextAttemptAt: iso(r.next_attempt_at)!,
    expiresAt: iso(r.expires_at)!,
    sentAt: iso(r.sent_at),
    completedAt: iso(r.completed_at),
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
  };
}

/** A provisioning intent before it has a row: what must reach which router, and why. */
export type JobIntent = Omit<NewJob, 'expiresAt' | 'createdBy'>;

/**
 * The provisioning outbox: jobs are written in the same transaction as the business change that
 * causes them, and the dispatcher delivers them. Also the read side NOC uses.
 */
export class ProvisioningService {
  /** In-process wake-up (same-instance writes); NOTIFY covers the other instances. */
  readonly wake = new EventEmitter();

  constructor(
    private readonly jobs: JobsRepository,
    private readonly jobTtlMs: number,
  ) {
    this.wake.setMaxListeners(0);
  }

  /** When a job written now stops being retried. */
  jobExpiry(): Date {
    return new Date(Date.now() + this.jobTtlMs);
  }

  /** Wakes this instance's dispatcher for routers whose jobs were just committed. */
  wakeLocal(routerIds: string[]): void {
    // inside an enclosing transaction the jobs are not committed yet: wake at its commit
    afterCommit(() => this.wake.emit('jobs', routerIds));
  }

  /** Writes jobs and their first event inside the caller's transaction; wakes dispatchers at commit. */
  async enqueue(tx: Transaction, intents: JobIntent[], createdBy: string | null): Promise<string[]> {
    if (intents.length === 0) return [];
    const expiresAt = new Date(Date.now() + this.jobTtlMs);
    const ids = await this.jobs.insertWithEvents(
      intents.map((i) => ({ ...i, createdBy, expiresAt })),
      tx,
    );
    afterCommit(
      () =>
        this.wake.emit(
          'jobs',
          intents.map((i) => i.routerId),
        ),
      tx,
    );
    return ids;
  }

  async list(filter: JobFilter, page: number, pageSize: number) {
    const { rows, total } = await this.jobs.list(filter, pageSize, (page - 1) * pageSize);
    return { items: rows.map(jobView), total };
  }

  async get(id: string): Promise<JobView> {
    const row = await this.jobs.get(id);
    if (!row) throw notFound('Provisioning job');
    const events = await this.jobs.events(id);
    return {
      ...jobView(row),
      events: events.map((e) => ({
        id: String(e.id),
        at: e.at.toISOString(),
        kind: e.kind,
        message: e.message,
        routerError: e.routerError,
        agentId: e.agentId,
        commandId: e.commandId,
        data: e.data,
      })),
    };
  }

  /** A job as stored, its whole result included (services that read a command's answer). */
  getRaw(id: string): Promise<JobRow | undefined> {
    return this.jobs.get(id);
  }

  latestForCustomers(ids: string[]) {
    return this.jobs.latestForCustomers(ids);
  }
}
