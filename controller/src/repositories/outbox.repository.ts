import { JobEvent } from '../db/models/index.ts';
import type { Database } from '../db/database.ts';
import { DESIRED_COLUMNS, DESIRED_JOIN, type DesiredCustomerRow } from './customers.repository.ts';
import { STORE_SENT } from './job-events.sql.ts';
import type { JobRow } from './jobs.repository.ts';

// The outbox as the dispatcher works it: claiming due jobs for an agent, settling them from its
// acks, sending back what a closed connection never got, expiring what waited too long.

/** A job claimed for delivery, with its seq and command id. */
export type ClaimedJob = Pick<JobRow, 'id' | 'router_id' | 'customer_id' | 'plan_id' | 'type' | 'payload' | 'attempts' | 'expires_at'> & {
  command_id: string;
  seq: string;
  /** A claimed customer.apply comes with what it needs (read in the same statement); null when the customer is gone. */
  desired?: DesiredCustomerRow | null;
};

// A claimed customer.apply's desired state comes as plain columns of the claim's own rows (`d_*`),
// not as a JSON object the database encodes and the controller parses again.
const DESIRED_FIELDS = [
  'id',
  'connection_type',
  'username',
  'password_enc',
  'status',
  'ip_address',
  'plan_id',
  'plan_name',
  'plan_type',
  'download_speed',
  'upload_speed',
  'shared_users',
  'data_limit_bytes',
  'gateway',
] as const satisfies readonly (keyof DesiredCustomerRow)[];
const DESIRED_AS_D = DESIRED_FIELDS.map((f) => `d.${f} AS d_${f}`).join(', ');
type ClaimRow = Omit<ClaimedJob, 'desired'> & { [K in (typeof DESIRED_FIELDS)[number] as `d_${K}`]: DesiredCustomerRow[K] | null };

function claimedJob(r: ClaimRow): ClaimedJob {
  const job: ClaimedJob = {
    id: r.id,
    router_id: r.router_id,
    customer_id: r.customer_id,
    plan_id: r.plan_id,
    type: r.type,
    payload: r.payload,
    attempts: r.attempts,
    expires_at: r.expires_at,
    command_id: r.command_id,
    seq: r.seq,
    desired: null,
  };
  if (r.d_id !== null)
    job.desired = {
      customer_id: String(r.customer_id),
      router_id: String(r.router_id),
      id: r.d_id,
      connection_type: r.d_connection_type!,
      username: r.d_username!,
      password_enc: r.d_password_enc!,
      status: r.d_status!,
      ip_address: r.d_ip_address,
      plan_id: r.d_plan_id!,
      plan_name: r.d_plan_name!,
      plan_type: r.d_plan_type!,
      download_speed: r.d_download_speed!,
      upload_speed: r.d_upload_speed!,
      shared_users: r.d_shared_users,
      data_limit_bytes: r.d_data_limit_bytes,
      gateway: r.d_gateway,
    };
  return job;
}

/** The outbox as the dispatcher sees it. */
export class OutboxRepository {
  constructor(private readonly db: Database) {}

  /**
   * Claims due jobs of a site for one agent: rows locked with SKIP LOCKED so several controller
   * instances never claim the same job, seqs taken from the agent's counter in the same transaction.
   * `seqsFor` tells how many seqs a job needs (a chunked reconcile needs several).
   */
  async claim(siteId: string, agentId: string, limit: number): Promise<ClaimedJob[]> {
    // One statement: lock due jobs (SKIP LOCKED: another instance takes the others), reserve a run
    // of seqs on the agent (a chunked reconcile takes one per chunk, the job keeps the last), and
    // mark them sent with a command id that starts with the job id. No event row: the job's log
    // shows this attempt's sending from the row, and stores it only if the row moves on (STORE_SENT).
    const rows = await this.db.prepared<ClaimRow>(
      'outbox.claim',
      `WITH due AS (
         SELECT j.id, CASE WHEN j.type = 'router.reconcile' THEN GREATEST(1, COALESCE((j.payload->>'chunks')::int, 1)) ELSE 1 END AS n
           FROM provisioning_jobs j JOIN routers r ON r.id = j.router_id
          WHERE r.site_id = $1 AND j.status = 'pending' AND j.next_attempt_at <= now()
          ORDER BY j.id LIMIT $3 FOR UPDATE OF j SKIP LOCKED),
       numbered AS (SELECT id, sum(n) OVER (ORDER BY id) AS upto FROM due),
       ag AS (
         UPDATE agents SET next_seq = next_seq + (SELECT sum(n) FROM due)
          WHERE id = $2 AND EXISTS (SELECT 1 FROM due)
         RETURNING next_seq - (SELECT sum(n) FROM due) AS base),
       upd AS (
         UPDATE provisioning_jobs j SET status = 'sent', attempts = j.attempts + 1, agent_id = $2,
                command_id = 'j' || j.id || '-' || (j.attempts + 1) || '-' || substr(md5(random()::text || clock_timestamp()::text), 1, 8),
                seq = ag.base + numbered.upto, sent_at = now(), updated_at = now()
           FROM numbered, ag WHERE j.id = numbered.id
         RETURNING j.id, j.router_id, j.customer_id, j.plan_id, j.type, j.payload, j.attempts, j.expires_at, j.command_id, j.seq)
       SELECT upd.*, ${DESIRED_AS_D}
         FROM upd LEFT JOIN LATERAL (
                SELECT ${DESIRED_COLUMNS} FROM (SELECT upd.customer_id, upd.router_id) AS x ${DESIRED_JOIN} WHERE upd.type = 'customer.apply') d ON true
        ORDER BY upd.seq`,
      [siteId, agentId, limit],
    );
    return rows.map(claimedJob);
  }

  /** Jobs sent to an agent and not yet acknowledged, in seq order (redelivered on reconnect). */
  unacknowledged(agentId: string, olderThanMs = 0): Promise<ClaimedJob[]> {
    return this.db.rows<ClaimedJob>(
      `SELECT id, router_id, customer_id, plan_id, type, payload, attempts, expires_at, command_id, seq FROM provisioning_jobs
        WHERE status = 'sent' AND agent_id = $1 AND sent_at <= now() - make_interval(secs => $2) ORDER BY seq`,
      [agentId, olderThanMs / 1000],
    );
  }

  /** Redelivered jobs count their time from now; the log keeps when they were first sent. */
  async touchSent(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.exec(
      `WITH ev AS (${STORE_SENT('provisioning_jobs t', 't', "t.id = ANY($1::bigint[]) AND t.status = 'sent'")})
       UPDATE provisioning_jobs SET sent_at = now() WHERE id = ANY($1::bigint[])`,
      [ids],
    );
  }

  /**
   * Jobs claimed for a connection that closed before they could be sent go back to the queue (the
   * attempt stays counted): only while still in that attempt, so an ack that arrived meanwhile wins.
   */
  async requeueUnsent(commandIds: string[], agentId: string): Promise<number> {
    if (commandIds.length === 0) return 0;
    const rows = await this.db.rows<{ n: number }>(
      `WITH u AS (
         UPDATE provisioning_jobs SET status = 'pending', next_attempt_at = now(), updated_at = now()
          WHERE command_id = ANY($1::text[]) AND status = 'sent' AND agent_id = $2 RETURNING id, sent_at, agent_id, attempts, seq, command_id),
       ev AS (${STORE_SENT('u', 'u')})
       SELECT count(*)::int AS n FROM u`,
      [commandIds, agentId],
    );
    return rows[0]?.n ?? 0;
  }

  /** Sent jobs of retired agents of a site go back to the queue for the current one. */
  async requeueOrphans(siteId: string, currentAgentId: string): Promise<number> {
    const rows = await this.db.rows<{ n: number }>(
      `WITH u AS (
         UPDATE provisioning_jobs j SET status = 'pending', next_attempt_at = now(), updated_at = now()
           FROM routers r WHERE r.id = j.router_id AND r.site_id = $1 AND j.status = 'sent' AND j.agent_id IS DISTINCT FROM $2
         RETURNING j.id, j.sent_at, j.agent_id, j.attempts, j.seq, j.command_id),
       ev AS (${STORE_SENT('u', 'u')})
       SELECT count(*)::int AS n FROM u`,
      [siteId, currentAgentId],
    );
    return rows[0]?.n ?? 0;
  }

  /**
   * Records the outcome of one command; only the attempt in flight, and only the agent it was sent
   * to, can settle its job (another agent's ack for the same id changes nothing).
   */
  async settle(
    commandId: string,
    outcome:
      | { status: 'applied'; result: Record<string, unknown> | null; event: string }
      | { status: 'failed'; error: string; routerError: string | null; event: string }
      | { status: 'pending'; delayMs: number; error: string; routerError: string | null; event: string },
    agentId: string,
  ): Promise<{ id: string; status: string; customer_id: string | null; router_id: string } | undefined> {
    return this.db.transaction(async (tx) => {
      let rows: { id: string; status: string; customer_id: string | null; router_id: string }[];
      if (outcome.status === 'applied') {
        // a success is logged on the row itself (its `outcome`), like settleApplied's
        rows = await this.db.rows(
          `UPDATE provisioning_jobs SET status = 'applied', completed_at = now(), updated_at = now(), result = $2, outcome = $4, last_error = NULL, router_error = NULL
            WHERE command_id = $1 AND status = 'sent' AND agent_id = $3 RETURNING id, status, customer_id, router_id`,
          [commandId, outcome.result === null ? null : JSON.stringify(outcome.result), agentId, outcome.event],
          tx,
        );
        return rows[0];
      } else if (outcome.status === 'failed') {
        rows = await this.db.rows(
          `UPDATE provisioning_jobs SET status = 'failed', completed_at = now(), updated_at = now(), last_error = $2, router_error = $3
            WHERE command_id = $1 AND status = 'sent' AND agent_id = $4 RETURNING id, status, customer_id, router_id`,
          [commandId, outcome.error, outcome.routerError, agentId],
          tx,
        );
      } else {
        rows = await this.db.rows(
          `UPDATE provisioning_jobs SET status = CASE WHEN now() + make_interval(secs => $2) < expires_at THEN 'pending' ELSE 'failed' END,
                  next_attempt_at = now() + make_interval(secs => $2), updated_at = now(), last_error = $3, router_error = $4,
                  completed_at = CASE WHEN now() + make_interval(secs => $2) < expires_at THEN NULL ELSE now() END
            WHERE command_id = $1 AND status = 'sent' AND agent_id = $5 RETURNING id, status, customer_id, router_id`,
          [commandId, outcome.delayMs / 1000, outcome.error, outcome.routerError, agentId],
          tx,
        );
      }
      const row = rows[0];
      if (!row) return undefined;
      // back in the queue: the next claim overwrites this attempt on the row, so its sending is stored now
      if (row.status === 'pending') await this.db.exec(STORE_SENT('provisioning_jobs t', 't', 't.id = $1'), [row.id], tx);
      const expired = outcome.status === 'pending' && row.status === 'failed';
      await JobEvent.create(
        {
          jobId: String(row.id),
          kind: expired ? 'expired' : outcome.status === 'pending' ? 'retry-scheduled' : outcome.status,
          message: expired ? `${outcome.event}; the job expired before it could be retried` : outcome.event,
          routerError: outcome.routerError,
          agentId,
          commandId,
          data: null,
        },
        { transaction: tx },
      );
      return row;
    });
  }

  /**
   * Settles many successful commands in one statement: under load acks arrive by the hundred, and
   * one round trip per ack would be the dispatcher's ceiling. No event rows: the job row keeps the
   * ack's words (`outcome`) and its log shows the sending and the success from the row.
   */
  async settleApplied(acks: { commandId: string; result: Record<string, unknown> | null; event: string; seq: number }[], agentId: string): Promise<string[]> {
    if (acks.length === 0) return [];
    const rows = await this.db.prepared<{ command_id: string }>(
      'outbox.settle-applied',
      `WITH s AS (UPDATE agents SET last_acked_seq = GREATEST(last_acked_seq, $5) WHERE id = $4),
       a AS (SELECT * FROM unnest($1::text[], $2::jsonb[], $3::text[]) AS a(command_id, result, event))
       UPDATE provisioning_jobs j SET status = 'applied', completed_at = now(), updated_at = now(), result = a.result, outcome = a.event,
              last_error = NULL, router_error = NULL
         FROM a WHERE j.command_id = a.command_id AND j.status = 'sent' AND j.agent_id = $4
       RETURNING j.command_id`,
      [
        acks.map((a) => a.commandId),
        acks.map((a) => (a.result === null ? null : JSON.stringify(a.result))),
        acks.map((a) => a.event),
        agentId,
        Math.max(0, ...acks.map((a) => a.seq)),
      ],
    );
    return rows.map((r) => r.command_id);
  }

  /**
   * Finds the job of a command id sent to `agentId`, also for chunk ids (`<id>.<n>`: job command ids
   * hold no dot), in flight or not: by the job id the command id starts with (`j<id>-…`; anything
   * else finds nothing), so no index over every job's command id is needed.
   */
  async jobOfCommand(commandId: string, agentId: string): Promise<string | undefined> {
    const rows = await this.db.rows<{ id: string }>(
      `SELECT id FROM provisioning_jobs
        WHERE id = substring($1 from '^j([0-9]{1,18})-')::bigint AND command_id = split_part($1, '.', 1) AND agent_id = $2`,
      [commandId, agentId],
    );
    return rows[0] ? String(rows[0].id) : undefined;
  }

  /** Fails pending or sent jobs past their expiry. */
  async expireOverdue(): Promise<number> {
    return this.db.transaction(async (tx) => {
      const rows = await this.db.rows<{ id: string }>(
        `UPDATE provisioning_jobs SET status = 'failed', completed_at = now(), updated_at = now(),
                last_error = COALESCE(last_error, 'expired before it reached the router')
          WHERE status IN ('pending', 'sent') AND expires_at <= now() RETURNING id`,
        [],
        tx,
      );
      if (rows.length > 0) {
        await JobEvent.bulkCreate(
          rows.map((r) => ({
            jobId: String(r.id),
            kind: 'expired',
            message: 'the job expired before the router confirmed it',
            routerError: null,
            agentId: null,
            commandId: null,
            data: null,
          })),
          { transaction: tx },
        );
      }
      return rows.length;
    });
  }

  /** Every router id → site id (the dispatcher maps wake-ups to agents). */
  async routerSites(): Promise<Map<string, string>> {
    const rows = await this.db.rows<{ id: string; site_id: string }>('SELECT id, site_id FROM routers');
    return new Map(rows.map((r) => [String(r.id), String(r.site_id)]));
  }
}
