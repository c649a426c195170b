import type { Customer } from '../db/models/index.ts';
import type { Database } from '../db/database.ts';
import { Batcher, bisectOnFailure } from '../lib/batcher.ts';
import { RECEIPT_SQL } from './ledger.repository.ts';

/** A plan as a new customer needs it: its rules, the routers it is on and its pools. */
export interface PlanRules {
  id: string;
  name: string;
  connection_type: Customer['connectionType'];
  price_minor: string;
  download_speed: string;
  upload_speed: string;
  validity_count: number;
  validity_unit: 'minutes' | 'hours' | 'days' | 'months';
  archived: boolean;
  router_ids: string[];
  pool_ids: string[];
}

/** What Add Customer reads before it decides. */
export interface AddContext {
  plan: PlanRules | null;
  blocks: { id: string; pool_id: string; router_id: string; cidr: string; gateway: string | null; reserved: [string, string][] }[];
  username_taken: boolean;
  username_is_account: boolean;
  additional_taken: boolean;
  next_id: string;
}

/** The columns of a new customer. */
export interface NewCustomerRow {
  id: string;
  connectionType: Customer['connectionType'];
  planId: string;
  networkId: string | null;
  ipAddress: string | null;
  fullName: string;
  phone: string;
  email: string | null;
  username: string;
  passwordEnc: string;
  accountNumber: string;
  additionalAccountNumber: string | null;
  status: Customer['status'];
  expiresAt: Date | null;
  activatedAt: Date | null;
  balanceMinor: string;
  createdBy: string | null;
}

/** A line of a new customer's account (its first period, installation fee, payment). */
export interface NewLedgerLine {
  side: string;
  kind: string;
  method: string | null;
  amountMinor: bigint;
  reference: string | null;
  note: string | null;
  planId: string | null;
  periodStart: Date | null;
  periodEnd: Date | null;
}

/** A new customer with everything written beside it. */
export interface NewCustomer {
  row: NewCustomerRow;
  entries: NewLedgerLine[];
  jobs: { routerId: string; reason: string; expiresAt: Date }[];
  audit: { userId: string | null; username: string | null; details: Record<string, unknown>; requestId: string | null; ip: string | null };
}

interface AddQuestion {
  planId: string;
  username: string;
  additional: string | null;
}

/**
 * Group commit: concurrent adds share one read and one write. A burst of adds from many clients
 * costs a statement per batch instead of one per customer, which is most of what a customer costs
 * the database. Two batches may be in flight, so a lone add never waits for a batch to fill.
 */
const BATCHING = { maxInFlight: 2, maxBatch: 64 };

/**
 * Add Customer's reads and its one write (SPEC section 4). Each customer's outcome is its own: when
 * a batch's write fails (a username or address another customer of the batch, or of another
 * request, just took), it is written again in halves, down to the one customer that conflicts.
 */
export class RegistrationRepository {
  private readonly contexts = new Batcher<AddQuestion, AddContext>((qs) => bisectOnFailure(qs, (b) => this.readContexts(b)), BATCHING);
  private readonly writes = new Batcher<NewCustomer, Written>((cs) => bisectOnFailure(cs, (b) => this.write(b)), BATCHING);

  constructor(private readonly db: Database) {}

  /** Batches and items so far: how well a burst was grouped. */
  get batching(): { reads: Batcher<AddQuestion, AddContext>['stats']; writes: Batcher<NewCustomer, Written>['stats'] } {
    return { reads: this.contexts.stats, writes: this.writes.stats };
  }

  /**
   * Everything Add Customer needs to decide: the plan with its routers and pools, the blocks of
   * those pools with their rules, whether the login and account numbers are free, and the id the
   * row will have (the password is encrypted bound to it).
   */
  addContext(planId: string, username: string, additional: string | null): Promise<AddContext> {
    return this.contexts.submit({ planId, username, additional });
  }

  /**
   * Writes a new customer with its payments, its provisioning jobs (and the NOTIFY that wakes
   * dispatchers) and its audit entry: atomic without an explicit transaction.
   * The unique indexes still decide races (a taken IP or username fails that customer).
   */
  insertWithEffects(customer: NewCustomer): Promise<Written> {
    return this.writes.submit(customer);
  }

  private async readContexts(qs: AddQuestion[]): Promise<AddContext[]> {
    const questions = qs.map((q, ord) => ({ ord, plan_id: q.planId, username: q.username, additional: q.additional }));
    return this.db.prepared<AddContext>('customers.add-contexts', CONTEXTS_SQL, [JSON.stringify(questions)]);
  }

  private async write(cs: NewCustomer[]): Promise<Written[]> {
    // four JSON parameters (customers, ledger lines, jobs, audit entries): one JSON.stringify each
    // instead of 37 arrays encoded element by element, and a plan PostgreSQL keeps (see CONTEXTS_SQL)
    // `ord` keeps the batch's order in the ids the rows get
    let line = 0;
    let job = 0;
    const lines = cs.flatMap((c) => {
      const balances = runningBalance(c.entries);
      return c.entries.map((e, i) => ({ ...e, amountMinor: e.amountMinor.toString(), customerId: c.row.id, balanceAfter: balances[i]!, ord: line++ }));
    });
    const jobs = cs.flatMap((c) => c.jobs.map((j) => ({ ...j, customerId: c.row.id, ord: job++ })));
    const audits = cs.map((c, ord) => ({ ...c.audit, customerId: c.row.id, ord }));
    const rows = await this.db.prepared<{ id: string; created_at: Date; job_ids: string[] | null }>('customers.insert-with-effects', INSERT_SQL, [
      JSON.stringify(cs.map((c) => c.row)),
      JSON.stringify(lines),
      JSON.stringify(jobs),
      JSON.stringify(audits),
    ]);
    const byId = new Map(rows.map((r) => [String(r.id), r]));
    return cs.map((c) => {
      const r = byId.get(c.row.id);
      if (!r) throw new Error(`customer ${c.row.id} was not written`);
      return { created_at: r.created_at, job_ids: r.job_ids ?? [] };
    });
  }
}

/** What the write answers for one customer. */
export interface Written {
  created_at: Date;
  job_ids: string[];
}

/** The balance after each entry of a new customer's account (it starts at zero). */
function runningBalance(entries: { side: string; amountMinor: bigint }[]): string[] {
  let balance = 0n;
  return entries.map((e) => (balance += e.side === 'credit' ? e.amountMinor : -e.amountMinor).toString());
}

// One row per question, in order. The questions come as one JSON parameter: PostgreSQL estimates
// json_to_recordset at a fixed row count whatever its value, so after five executions the cached
// generic plan costs the same as a fresh one and is kept (with arrays, a batch of one looked cheaper
// planned afresh, and planning this statement cost more than running it). A batch's plans and their
// blocks are read once per distinct plan. Two EXISTS for the account numbers, not one with OR: each
// can use its own index (an OR made the planner scan). Each is a probe of its unique index with
// LIMIT 1, not an EXISTS: planned for json_to_recordset's 100 rows, an EXISTS became a hash of the
// whole customers table, built on every call.
const TAKEN = (column: string, value: string) => `((SELECT 1 FROM customers WHERE lower(${column}) = lower(${value}) LIMIT 1) IS NOT NULL)`;
export const CONTEXTS_SQL = `
  WITH q AS MATERIALIZED (SELECT * FROM json_to_recordset($1::json) AS q(ord int, plan_id bigint, username text, additional text)),
  p AS MATERIALIZED (
    SELECT pl.id AS plan_id,
           (SELECT row_to_json(x) FROM (
              SELECT pl.id::text, pl.name, pl.connection_type, pl.price_minor::text, pl.download_speed, pl.upload_speed, pl.validity_count,
                     pl.validity_unit, pl.archived,
                     ARRAY(SELECT router_id::text FROM plan_routers WHERE plan_id = pl.id ORDER BY router_id) AS router_ids,
                     ARRAY(SELECT pool_id::text FROM plan_pools WHERE plan_id = pl.id ORDER BY pool_id) AS pool_ids) x) AS plan,
           (SELECT COALESCE(json_agg(b ORDER BY b.cidr), '[]'::json) FROM (
              SELECT n.id::text, n.pool_id::text, po.router_id::text, n.cidr::text AS cidr, host(po.gateway) AS gateway,
                     COALESCE((SELECT json_agg(json_build_array(host(r.first_ip), host(r.last_ip))) FROM pool_reserved r WHERE r.pool_id = po.id), '[]'::json) AS reserved
                FROM plan_pools pp JOIN pools po ON po.id = pp.pool_id JOIN networks n ON n.pool_id = po.id WHERE pp.plan_id = pl.id) b) AS blocks
      FROM plans pl WHERE pl.id IN (SELECT DISTINCT plan_id FROM q))
  SELECT p.plan, COALESCE(p.blocks, '[]'::json) AS blocks,
    ${TAKEN('username', 'q.username')} AS username_taken,
    (${TAKEN('account_number', 'q.username')} OR ${TAKEN('additional_account_number', 'q.username')}) AS username_is_account,
    (q.additional IS NOT NULL AND (${TAKEN('account_number', 'q.additional')} OR ${TAKEN('additional_account_number', 'q.additional')})) AS additional_taken,
    nextval(pg_get_serial_sequence('customers', 'id'))::text AS next_id
  FROM q LEFT JOIN p ON p.plan_id = q.plan_id
  ORDER BY q.ord`;

// Customers, their ledger lines, jobs (one NOTIFY for the batch; a job's log shows its creation from
// the job row) and audit entries in ONE statement; the lines and jobs name their customer by its id,
// taken beforehand.
// Each JSON parameter is an array of objects keyed as NewCustomerRow, NewLedgerLine, the job and the
// audit entry are in TypeScript.
const INSERT_SQL = `
  WITH c AS (
    INSERT INTO customers (id, connection_type, plan_id, network_id, ip_address, full_name, phone, email, username, password_enc, account_number,
                           additional_account_number, status, expires_at, activated_at, balance_minor, created_by)
    SELECT * FROM json_to_recordset($1::json) AS x("id" bigint, "connectionType" text, "planId" bigint, "networkId" bigint, "ipAddress" inet,
                  "fullName" text, "phone" text, "email" text, "username" text, "passwordEnc" text, "accountNumber" text, "additionalAccountNumber" text,
                  "status" text, "expiresAt" timestamptz, "activatedAt" timestamptz, "balanceMinor" bigint, "createdBy" bigint)
    RETURNING id, username, created_by, created_at),
  l AS (
    INSERT INTO ledger_entries (customer_id, customer_username, side, kind, method, amount_minor, balance_after_minor, reference, note, receipt_number,
                                plan_id, period_start, period_end, staff_user_id)
    SELECT c.id, c.username, x.side, x.kind, x.method, x."amountMinor", x."balanceAfter", x.reference, x.note, CASE WHEN x.kind = 'payment' THEN ${RECEIPT_SQL} END,
           x."planId", x."periodStart", x."periodEnd", c.created_by
      FROM json_to_recordset($2::json)
             AS x("customerId" bigint, side text, kind text, method text, "amountMinor" bigint, "balanceAfter" bigint, reference text, note text,
                  "planId" bigint, "periodStart" timestamptz, "periodEnd" timestamptz, ord int)
      JOIN c ON c.id = x."customerId"
     ORDER BY x.ord),
  j AS (
    INSERT INTO provisioning_jobs (router_id, type, reason, customer_id, payload, created_by, expires_at)
    SELECT x."routerId", 'customer.apply', x.reason, c.id, jsonb_build_object('username', c.username, 'fresh', true), c.created_by, x."expiresAt"
      FROM json_to_recordset($3::json) AS x("customerId" bigint, "routerId" bigint, reason text, "expiresAt" timestamptz, ord int)
      JOIN c ON c.id = x."customerId"
     ORDER BY x.ord
    RETURNING id, customer_id, router_id, reason),
  a AS (
    INSERT INTO audit_log (user_id, username, action, entity, entity_id, details, request_id, ip)
    SELECT x."userId", x.username, 'customer.create', 'customer', c.id::text, x.details, x."requestId", x.ip
      FROM json_to_recordset($4::json) AS x("customerId" bigint, "userId" bigint, username text, details jsonb, "requestId" text, ip text, ord int)
      JOIN c ON c.id = x."customerId"
     ORDER BY x.ord)
  SELECT c.id::text, c.created_at,
         (SELECT array_agg(j.id::text ORDER BY j.id) FROM j WHERE j.customer_id = c.id) AS job_ids,
         (SELECT pg_notify('mtandao_outbox', string_agg(DISTINCT router_id::text, ',')) FROM j HAVING count(*) > 0) AS notified
    FROM c`;
