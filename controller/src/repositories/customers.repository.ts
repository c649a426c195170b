import type { CreationAttributes } from 'sequelize';
import type { Transaction } from 'sequelize';
import { Customer } from '../db/models/index.ts';
import { RECEIPT_SQL } from './ledger.repository.ts';
import type { Database } from '../db/database.ts';

/** A customer joined with what its views show. */
export interface CustomerRow {
  id: string;
  connection_type: Customer['connectionType'];
  plan_id: string;
  plan_name: string;
  network_id: string | null;
  network: string | null;
  ip_address: string | null;
  full_name: string;
  phone: string;
  email: string | null;
  username: string;
  account_number: string;
  additional_account_number: string | null;
  status: Customer['status'];
  expires_at: Date | null;
  activated_at: Date | null;
  balance_minor: string;
  created_at: Date;
  created_by_username: string | null;
  /** the price of the next renewal (the scheduled next plan's, else the plan's) */
  renewal_price_minor: string;
  next_plan_id: string | null;
  next_plan_name: string | null;
}

/** The customer columns every view reads (the list and the export reuse it). */
export const CUSTOMER_SELECT = `
  SELECT c.id, c.connection_type, c.plan_id, p.name AS plan_name, c.network_id, n.cidr::text AS network, host(c.ip_address) AS ip_address,
         c.full_name, c.phone, c.email, c.username, c.account_number, c.additional_account_number, c.status, c.expires_at,
         c.activated_at, c.balance_minor, c.created_at, u.username AS created_by_username,
         COALESCE(np.price_minor, p.price_minor)::text AS renewal_price_minor, c.next_plan_id::text AS next_plan_id, np.name AS next_plan_name
    FROM customers c
    JOIN plans p ON p.id = c.plan_id
    LEFT JOIN plans np ON np.id = c.next_plan_id
    LEFT JOIN networks n ON n.id = c.network_id
    LEFT JOIN users u ON u.id = c.created_by`;

/** A customer with its plan, as a router should hold it. */
export interface DesiredCustomerRow {
  customer_id: string;
  router_id: string;
  id: string;
  connection_type: Customer['connectionType'];
  username: string;
  password_enc: string;
  status: Customer['status'];
  ip_address: string | null;
  plan_id: string;
  plan_name: string;
  plan_type: Customer['connectionType'];
  download_speed: string;
  upload_speed: string;
  shared_users: number | null;
  data_limit_bytes: string | null;
  gateway: string | null;
}

/**
 * The columns of a {@link DesiredCustomerRow} over `x(customer_id, router_id)` joined with
 * {@link DESIRED_JOIN}; also read by the outbox claim, so a claimed customer.apply needs no second query.
 */
export const DESIRED_COLUMNS = `x.customer_id::text AS customer_id, x.router_id::text AS router_id, c.id::text AS id, c.connection_type, c.username, c.password_enc, c.status,
  host(c.ip_address) AS ip_address, p.id::text AS plan_id, p.name AS plan_name, p.connection_type AS plan_type, p.download_speed, p.upload_speed,
  p.shared_users, p.data_limit_bytes::text AS data_limit_bytes,
  (SELECT host(po.gateway) FROM plan_pools pp JOIN pools po ON po.id = pp.pool_id
    WHERE pp.plan_id = p.id AND po.router_id = x.router_id AND po.gateway IS NOT NULL ORDER BY po.id LIMIT 1) AS gateway`;
export const DESIRED_JOIN = 'JOIN customers c ON c.id = x.customer_id JOIN plans p ON p.id = c.plan_id';

/** What Add Customer reads before it decides. */
export interface AddContext {
  plan: {
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
  } | null;
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

/** Customers a router carries: on one of its pools, or without an address on a plan it carries. */
/** `FROM … WHERE …` of the customers that belong on router `$1` (every status but inactive). */
export const ON_ROUTER = `FROM customers c LEFT JOIN networks n ON n.id = c.network_id LEFT JOIN pools p ON p.id = n.pool_id
  WHERE c.status <> 'inactive' AND (p.router_id = $1 OR (c.network_id IS NULL AND c.plan_id IN (SELECT plan_id FROM plan_routers WHERE router_id = $1)))`;

export class CustomersRepository {
  constructor(private readonly db: Database) {}

  /** Takes the next id first: the password ciphertext is bound to it. */
  async nextId(tx: Transaction): Promise<string> {
    const rows = await this.db.rows<{ id: string }>(`SELECT nextval(pg_get_serial_sequence('customers', 'id')) AS id`, [], tx);
    return String(rows[0]!.id);
  }
  create(data: CreationAttributes<Customer>, tx: Transaction): Promise<Customer> {
    return Customer.create(data, { transaction: tx });
  }
  findById(id: string, tx?: Transaction, lock = false): Promise<Customer | null> {
    return Customer.findByPk(id, { transaction: tx, ...(lock && tx ? { lock: tx.LOCK.UPDATE } : {}) });
  }
  async findByIds(ids: string[]): Promise<Customer[]> {
    return ids.length === 0 ? [] : Customer.findAll({ where: { id: ids } });
  }
  async row(id: string, tx?: Transaction): Promise<CustomerRow | undefined> {
    return (await this.db.rows<CustomerRow>(`${CUSTOMER_SELECT} WHERE c.id = $1`, [id], tx))[0];
  }
  async update(id: string, patch: Partial<CreationAttributes<Customer>>, tx: Transaction): Promise<void> {
    await Customer.update({ ...patch, updatedAt: new Date() }, { where: { id }, transaction: tx });
  }
  async remove(id: string, tx: Transaction): Promise<void> {
    await Customer.destroy({ where: { id }, transaction: tx });
  }

  /**
   * Everything Add Customer needs to decide, in one round trip: the plan with its routers and
   * pools, the blocks of those pools with their rules, whether the login and account numbers are
   * free, and the id the row will have (the password is encrypted bound to it).
   */
  async addContext(planId: string, username: string, additional: string | null): Promise<AddContext> {
    const rows = await this.db.prepared<AddContext>(
      'customers.add-context',
      `SELECT
         (SELECT row_to_json(x) FROM (
            SELECT p.id::text, p.name, p.connection_type, p.price_minor::text, p.download_speed, p.upload_speed, p.validity_count, p.validity_unit, p.archived,
                   ARRAY(SELECT router_id::text FROM plan_routers WHERE plan_id = p.id ORDER BY router_id) AS router_ids,
                   ARRAY(SELECT pool_id::text FROM plan_pools WHERE plan_id = p.id ORDER BY pool_id) AS pool_ids
              FROM plans p WHERE p.id = $1) x) AS plan,
         (SELECT COALESCE(json_agg(b ORDER BY b.cidr), '[]'::json) FROM (
            SELECT n.id::text, n.pool_id::text, po.router_id::text, n.cidr::text AS cidr, host(po.gateway) AS gateway,
                   COALESCE((SELECT json_agg(json_build_array(host(r.first_ip), host(r.last_ip))) FROM pool_reserved r WHERE r.pool_id = po.id), '[]'::json) AS reserved
              FROM plan_pools pp JOIN pools po ON po.id = pp.pool_id JOIN networks n ON n.pool_id = po.id WHERE pp.plan_id = $1) b) AS blocks,
         EXISTS (SELECT 1 FROM customers WHERE lower(username) = lower($2)) AS username_taken,
         -- two EXISTS, not one with OR: each can use its own index (an OR made the planner scan)
         (EXISTS (SELECT 1 FROM customers WHERE lower(account_number) = lower($2))
           OR EXISTS (SELECT 1 FROM customers WHERE lower(additional_account_number) = lower($2))) AS username_is_account,
         ($3::text IS NOT NULL AND (EXISTS (SELECT 1 FROM customers WHERE lower(account_number) = lower($3))
           OR EXISTS (SELECT 1 FROM customers WHERE lower(additional_account_number) = lower($3)))) AS additional_taken,
         nextval(pg_get_serial_sequence('customers', 'id'))::text AS next_id`,
      [planId, username, additional],
    );
    return rows[0]!;
  }

  /**
   * Writes a new customer with its payments, its provisioning jobs (and their first events, and the
   * NOTIFY that wakes dispatchers) and its audit entry in ONE statement: atomic without an explicit
   * transaction, and one round trip on the busiest write path. The unique indexes still decide
   * races (a taken IP or username fails the whole statement).
   */
  async insertWithEffects(
    row: NewCustomerRow,
    entries: {
      side: string;
      kind: string;
      method: string | null;
      amountMinor: bigint;
      reference: string | null;
      note: string | null;
      planId: string | null;
      periodStart: Date | null;
      periodEnd: Date | null;
    }[],
    jobs: { routerId: string; reason: string; expiresAt: Date }[],
    audit: { userId: string | null; username: string | null; details: Record<string, unknown>; requestId: string | null; ip: string | null },
  ): Promise<{ created_at: Date; job_ids: string[] }> {
    const rows = await this.db.prepared<{ created_at: Date; job_ids: string[] | null }>(
      'customers.insert-with-effects',
      `WITH c AS (
         INSERT INTO customers (id, connection_type, plan_id, network_id, ip_address, full_name, phone, email, username, password_enc, account_number,
                                additional_account_number, status, expires_at, activated_at, balance_minor, created_by)
         VALUES ($1, $2, $3, $4, $5::inet, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id, created_at),
       l AS (
         INSERT INTO ledger_entries (customer_id, customer_username, side, kind, method, amount_minor, balance_after_minor, reference, note, receipt_number,
                                     plan_id, period_start, period_end, staff_user_id)
         SELECT c.id, $9::text, x.side, x.kind, x.method, x.amount, x.balance_after, x.reference, x.note, CASE WHEN x.kind = 'payment' THEN ${RECEIPT_SQL} END,
                x.plan_id, x.period_start, x.period_end, $17 FROM c,
                unnest($18::text[], $19::text[], $20::text[], $21::bigint[], $22::bigint[], $23::text[], $24::text[], $25::bigint[], $26::timestamptz[], $27::timestamptz[])
                  WITH ORDINALITY AS x(side, kind, method, amount, balance_after, reference, note, plan_id, period_start, period_end, ord)
          ORDER BY x.ord),
       j AS (
         INSERT INTO provisioning_jobs (router_id, type, reason, customer_id, payload, created_by, expires_at)
         SELECT x.router_id, 'customer.apply', x.reason, c.id, jsonb_build_object('username', $9::text, 'fresh', true), $17, x.expires_at FROM c,
                unnest($28::bigint[], $29::text[], $30::timestamptz[]) AS x(router_id, reason, expires_at)
         RETURNING id, router_id, reason),
       e AS (INSERT INTO job_events (job_id, kind, message) SELECT id, 'created', 'queued: ' || reason FROM j),
       a AS (
         INSERT INTO audit_log (user_id, username, action, entity, entity_id, details, request_id, ip)
         SELECT $31, $32, 'customer.create', 'customer', c.id::text, $33::jsonb, $34, $35 FROM c)
       SELECT c.created_at,
              (SELECT array_agg(id::text ORDER BY id) FROM j) AS job_ids,
              (SELECT pg_notify('mtandao_outbox', string_agg(DISTINCT router_id::text, ',')) FROM j WHERE EXISTS (SELECT 1 FROM j)) AS notified
         FROM c`,
      [
        row.id,
        row.connectionType,
        row.planId,
        row.networkId,
        row.ipAddress,
        row.fullName,
        row.phone,
        row.email,
        row.username,
        row.passwordEnc,
        row.accountNumber,
        row.additionalAccountNumber,
        row.status,
        row.expiresAt,
        row.activatedAt,
        row.balanceMinor,
        row.createdBy,
        entries.map((x) => x.side),
        entries.map((x) => x.kind),
        entries.map((x) => x.method),
        entries.map((x) => x.amountMinor.toString()),
        runningBalance(entries),
        entries.map((x) => x.reference),
        entries.map((x) => x.note),
        entries.map((x) => x.planId),
        entries.map((x) => x.periodStart),
        entries.map((x) => x.periodEnd),
        jobs.map((x) => x.routerId),
        jobs.map((x) => x.reason),
        jobs.map((x) => x.expiresAt),
        audit.userId,
        audit.username,
        JSON.stringify(audit.details),
        audit.requestId,
        audit.ip,
      ],
    );
    const r = rows[0]!;
    return { created_at: r.created_at, job_ids: r.job_ids ?? [] };
  }

  /**
   * What customer.apply commands need, for many customers at once: the customer, its plan and the
   * gateway of the plan's pool on the router (a PPPoE profile's local-address).
   */
  desiredRows(customerIds: string[], routerIds: string[]): Promise<DesiredCustomerRow[]> {
    return this.db.prepared<DesiredCustomerRow>(
      'customers.desired-rows',
      `SELECT ${DESIRED_COLUMNS} FROM unnest($1::bigint[], $2::bigint[]) AS x(customer_id, router_id) ${DESIRED_JOIN}`,
      [customerIds, routerIds],
    );
  }

  /** Customers that belong on a router (every status but inactive), by id. */
  async idsOnRouter(routerId: string): Promise<string[]> {
    const rows = await this.db.rows<{ id: string }>(`SELECT c.id ${ON_ROUTER} ORDER BY c.id`, [routerId]);
    return rows.map((r) => String(r.id));
  }

  /** How many customers belong on a router. */
  async countOnRouter(routerId: string, tx?: Transaction): Promise<number> {
    const rows = await this.db.rows<{ n: string }>(`SELECT count(*) AS n ${ON_ROUTER}`, [routerId], tx);
    return Number(rows[0]?.n ?? 0);
  }

  async usernameTaken(username: string, exceptId?: string, tx?: Transaction): Promise<boolean> {
    const rows = await this.db.rows(
      'SELECT 1 FROM customers WHERE lower(username) = lower($1) AND ($2::bigint IS NULL OR id <> $2::bigint) LIMIT 1',
      [username, exceptId ?? null],
      tx,
    );
    return rows.length > 0;
  }
  /** Account numbers are unique across both columns: an M-Pesa paybill reference must find one customer. */
  async accountNumberTaken(value: string, exceptId?: string, tx?: Transaction): Promise<boolean> {
    const rows = await this.db.rows(
      `SELECT 1 FROM customers WHERE lower(account_number) = lower($1) AND ($2::bigint IS NULL OR id <> $2::bigint)
       UNION ALL
       SELECT 1 FROM customers WHERE lower(additional_account_number) = lower($1) AND ($2::bigint IS NULL OR id <> $2::bigint) LIMIT 1`,
      [value, exceptId ?? null],
      tx,
    );
    return rows.length > 0;
  }
  async usernamesLike(stem: string): Promise<string[]> {
    const rows = await this.db.rows<{ username: string }>(`SELECT lower(username) AS username FROM customers WHERE lower(username) LIKE $1 || '%'`, [
      stem.toLowerCase(),
    ]);
    return rows.map((r) => r.username);
  }

  /** Routers a customer lives on: its pool's router, or (hotspot) every router of its plan. */
  async routersFor(c: { networkId: string | null; planId: string }, tx?: Transaction): Promise<string[]> {
    if (c.networkId) {
      const rows = await this.db.rows<{ router_id: string }>(
        'SELECT p.router_id FROM networks n JOIN pools p ON p.id = n.pool_id WHERE n.id = $1',
        [c.networkId],
        tx,
      );
      return rows.map((r) => String(r.router_id));
    }
    const rows = await this.db.rows<{ router_id: string }>('SELECT router_id FROM plan_routers WHERE plan_id = $1 ORDER BY router_id', [c.planId], tx);
    return rows.map((r) => String(r.router_id));
  }
}

/** The balance after each entry of a new customer's account (it starts at zero). */
function runningBalance(entries: { side: string; amountMinor: bigint }[]): string[] {
  let balance = 0n;
  return entries.map((e) => (balance += e.side === 'credit' ? e.amountMinor : -e.amountMinor).toString());
}
