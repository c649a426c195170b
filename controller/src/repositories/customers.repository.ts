import type { CreationAttributes } from 'sequelize';
import type { Transaction } from 'sequelize';
import { Customer } from '../db/models/index.ts';
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
