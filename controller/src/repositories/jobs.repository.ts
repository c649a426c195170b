import type { Transaction } from 'sequelize';
import { JobEvent } from '../db/models/index.ts';
import type { Database } from '../db/database.ts';
import { SENT_MESSAGE } from './job-events.sql.ts';

/** A job to write into the outbox. */
export interface NewJob {
  routerId: string;
  type: string;
  reason: string;
  customerId?: string | null;
  planId?: string | null;
  payload?: Record<string, unknown>;
  createdBy: string | null;
  expiresAt: Date;
}

/** A new event in a job's life. */
export interface NewJobEvent {
  jobId: string;
  kind: string;
  message: string;
  routerError?: string | null;
  agentId?: string | null;
  commandId?: string | null;
  data?: Record<string, unknown> | null;
}

/** One line of a job's log, stored or read from the job row. */
export interface JobEventRow {
  id: string;
  at: Date;
  kind: string;
  message: string;
  routerError: string | null;
  agentId: string | null;
  commandId: string | null;
  data: Record<string, unknown> | null;
}

/** A job row joined with what NOC reads beside it. */
export interface JobRow {
  id: string;
  router_id: string;
  router_name: string;
  site_id: string;
  site_name: string;
  customer_id: string | null;
  customer_username: string | null;
  plan_id: string | null;
  type: string;
  reason: string;
  payload: Record<string, unknown>;
  status: 'pending' | 'sent' | 'applied' | 'failed';
  attempts: number;
  next_attempt_at: Date;
  expires_at: Date;
  agent_id: string | null;
  command_id: string | null;
  seq: string | null;
  sent_at: Date | null;
  completed_at: Date | null;
  last_error: string | null;
  router_error: string | null;
  result: Record<string, unknown> | null;
  outcome: string | null;
  created_at: Date;
  updated_at: Date;
}

const SELECT = `
  SELECT j.*, r.name AS router_name, r.site_id, s.name AS site_name, c.username AS customer_username
    FROM provisioning_jobs j
    JOIN routers r ON r.id = j.router_id
    JOIN sites s ON s.id = r.site_id
    LEFT JOIN customers c ON c.id = j.customer_id`;

/** Filters of the job list. */
export interface JobFilter {
  customerId?: string | undefined;
  customerUsername?: string | undefined;
  routerId?: string | undefined;
  siteId?: string | undefined;
  status?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  afterId?: string | undefined;
}

export class JobsRepository {
  constructor(private readonly db: Database) {}

  /** Of these routers, those without a reconcile waiting (or, per the gate, sent or recent). */
  async routersDueReconcile(routerIds: string[], gate: ReconcileGate, tx: Transaction): Promise<string[]> {
    const rows = await this.db.rows<{ id: string }>(
      `SELECT r.id FROM routers r WHERE r.id = ANY($1::bigint[]) AND NOT EXISTS (
         SELECT 1 FROM provisioning_jobs j WHERE j.router_id = r.id AND j.type = 'router.reconcile'
            AND (j.status = 'pending' OR ($2::boolean AND j.status = 'sent') OR j.created_at > now() - $3::bigint * interval '1 millisecond'))
       ORDER BY r.id`,
      [routerIds, gate.skipSent ?? false, gate.minGapMs ?? 0],
      tx,
    );
    return rows.map((r) => String(r.id));
  }

  /**
   * Writes jobs and the NOTIFY that wakes dispatchers in one statement (the outbox is on every
   * business write's path). Their `created` event is read from the row (see `events`).
   */
  async insertWithEvents(jobs: NewJob[], tx: Transaction): Promise<string[]> {
    const rows = await this.db.rows<{ id: string }>(
      `WITH j AS (
         INSERT INTO provisioning_jobs (router_id, type, reason, customer_id, plan_id, payload, created_by, expires_at)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::jsonb[], $7::bigint[], $8::timestamptz[])
         RETURNING id, reason, router_id)
       SELECT j.id, pg_notify('mtandao_outbox', (SELECT string_agg(DISTINCT router_id::text, ',') FROM j)) AS n FROM j ORDER BY j.id`,
      [
        jobs.map((j) => j.routerId),
        jobs.map((j) => j.type),
        jobs.map((j) => j.reason),
        jobs.map((j) => j.customerId ?? null),
        jobs.map((j) => j.planId ?? null),
        jobs.map((j) => JSON.stringify(j.payload ?? {})),
        jobs.map((j) => j.createdBy),
        jobs.map((j) => j.expiresAt),
      ],
      tx,
    );
    return rows.map((r) => String(r.id));
  }

  async addEvents(events: NewJobEvent[], tx?: Transaction): Promise<void> {
    if (events.length === 0) return;
    await JobEvent.bulkCreate(
      events.map((e) => ({
        jobId: e.jobId,
        kind: e.kind,
        message: e.message,
        routerError: e.routerError ?? null,
        agentId: e.agentId ?? null,
        commandId: e.commandId ?? null,
        data: e.data ?? null,
      })),
      { transaction: tx },
    );
  }

  private where(filter: JobFilter): { sql: string; bind: unknown[] } {
    const conds: string[] = [];
    const bind: unknown[] = [];
    const add = (cond: string, value: unknown) => {
      bind.push(value);
      conds.push(`(${cond.replaceAll('?', `$${bind.length}`)})`);
    };
    if (filter.customerId) add('j.customer_id = ?', filter.customerId);
    if (filter.customerUsername)
      add(`j.customer_id IN (SELECT id FROM customers WHERE lower(username) = lower(?)) OR lower(j.payload->>'username') = lower(?)`, filter.customerUsername);
    if (filter.routerId) add('j.router_id = ?', filter.routerId);
    if (filter.siteId) add('r.site_id = ?', filter.siteId);
    if (filter.status) add('j.status = ?', filter.status);
    // as instants: PostgreSQL refuses offsets past ±15:59 that ISO 8601 (and zod) allow
    if (filter.since) add('j.created_at >= ?', new Date(filter.since).toISOString());
    if (filter.until) add('j.created_at < ?', new Date(filter.until).toISOString());
    if (filter.afterId) add('j.id > ?', filter.afterId);
    return { sql: conds.length > 0 ? `WHERE ${conds.join(' AND ')}` : '', bind };
  }

  async list(filter: JobFilter, limit: number, offset: number): Promise<{ rows: JobRow[]; total: number }> {
    const { sql, bind } = this.where(filter);
    const rows = await this.db.rows<JobRow>(`${SELECT} ${sql} ORDER BY j.id DESC LIMIT ${Number(limit)} OFFSET ${Number(offset)}`, bind);
    const count = await this.db.rows<{ n: string }>(`SELECT count(*) AS n FROM provisioning_jobs j JOIN routers r ON r.id = j.router_id ${sql}`, bind);
    return { rows, total: Number(count[0]?.n ?? 0) };
  }

  async get(id: string, tx?: Transaction): Promise<JobRow | undefined> {
    return (await this.db.rows<JobRow>(`${SELECT} WHERE j.id = $1`, [id], tx))[0];
  }

  async latestForCustomers(customerIds: string[]): Promise<Map<string, JobRow>> {
    if (customerIds.length === 0) return new Map();
    const rows = await this.db.rows<JobRow>(
      `SELECT DISTINCT ON (j.customer_id) j.*, r.name AS router_name, r.site_id, NULL AS site_name, NULL AS customer_username
         FROM provisioning_jobs j JOIN routers r ON r.id = j.router_id
        WHERE j.customer_id = ANY($1::bigint[]) ORDER BY j.customer_id, j.id DESC`,
      [customerIds],
    );
    return new Map(rows.map((r) => [String(r.customer_id), r]));
  }

  /**
   * A job's log: its stored events, and those its row tells (a row is written only for what the
   * row cannot keep): `created`, the sending of its last attempt, and its success. Each is read from
   * the row only when no stored event tells it (jobs logged before migration 0013 have them all).
   * In time order: an attempt's `sent` is stored when the attempt ends, with the time it was sent.
   */
  events(jobId: string): Promise<JobEventRow[]> {
    return this.db.rows<JobEventRow>(
      `WITH j AS (SELECT * FROM provisioning_jobs WHERE id = $1),
       e AS (SELECT * FROM job_events WHERE job_id = $1)
       SELECT id, at, kind, message, "routerError", "agentId", "commandId", data FROM (
       SELECT id::text AS id, at, kind, message, router_error AS "routerError", agent_id AS "agentId", command_id AS "commandId", data, 1 AS rank, id AS n FROM e
       UNION ALL
       SELECT j.id || ':created', j.created_at, 'created', 'queued: ' || j.reason, NULL, NULL, NULL, NULL, 0, 0 FROM j
        WHERE NOT EXISTS (SELECT 1 FROM e WHERE e.kind = 'created')
       UNION ALL
       SELECT j.id || ':sent:' || j.attempts, j.sent_at, 'sent', ${SENT_MESSAGE('j')}, NULL, j.agent_id, j.command_id, NULL, 0, 0 FROM j
        WHERE j.sent_at IS NOT NULL AND j.command_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM e WHERE e.kind = 'sent' AND e.command_id = j.command_id)
       UNION ALL
       SELECT j.id || ':applied', j.completed_at, 'applied', COALESCE(j.outcome, 'applied on the router'), NULL, j.agent_id, j.command_id, NULL, 2, 0 FROM j
        WHERE j.status = 'applied' AND NOT EXISTS (SELECT 1 FROM e WHERE e.kind = 'applied')) x
       ORDER BY at, rank, n`,
      [jobId],
    );
  }
}

/** When to leave a router out of a new reconcile. */
export interface ReconcileGate {
  /** Also skip a router whose last reconcile was queued less than this long ago (flapping links). */
  minGapMs?: number;
  /** Also skip a router with a reconcile already sent (its envelope carries the state of then). */
  skipSent?: boolean;
}
