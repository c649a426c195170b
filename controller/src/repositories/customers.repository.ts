import type { CreationAttributes } from 'sequelize';
import { Op, type Transaction } from 'sequelize';
import { Customer, Payment } from '../db/models/index.ts';
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
}

const SELECT = `
  SELECT c.id, c.connection_type, c.plan_id, p.name AS plan_name, c.network_id, n.cidr::text AS network, host(c.ip_address) AS ip_address,
         c.full_name, c.phone, c.email, c.username, c.account_number, c.additional_account_number, c.status, c.expires_at,
         c.activated_at, c.balance_minor, c.created_at, u.username AS created_by_username
    FROM customers c
    JOIN plans p ON p.id = c.plan_id
    LEFT JOIN networks n ON n.id = c.network_id
    LEFT JOIN users u ON u.id = c.created_by`;

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

/** A payment with the staff member who took it. */
export interface PaymentRow {
  id: string;
  customer_id: string;
  method: Payment['method'];
  kind: Payment['kind'];
  amount_minor: string;
  reference: string | null;
  note: string | null;
  created_at: Date;
  staff: string | null;
}

/** Filters of the customer list. */
export interface CustomerFilter {
  search?: string | undefined;
  /** the search term as a normalised phone number, when it is one */
  phone?: string | undefined;
  status?: string | undefined;
  connectionType?: string | undefined;
  planId?: string | undefined;
}

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
    return (await this.db.rows<CustomerRow>(`${SELECT} WHERE c.id = $1`, [id], tx))[0];
  }
  async update(id: string, patch: Partial<CreationAttributes<Customer>>, tx: Transaction): Promise<void> {
    await Customer.update({ ...patch, updatedAt: new Date() }, { where: { id }, transaction: tx });
  }
  async remove(id: string, tx: Transaction): Promise<void> {
    await Customer.destroy({ where: { id }, transaction: tx });
  }

  async list(filter: CustomerFilter, limit: number, offset: number): Promise<{ rows: CustomerRow[]; total: number }> {
    const conds: string[] = [];
    const bind: unknown[] = [];
    const param = (v: unknown) => {
      bind.push(v);
      return `$${bind.length}`;
    };
    if (filter.status) conds.push(`c.status = ${param(filter.status)}`);
    if (filter.connectionType) conds.push(`c.connection_type = ${param(filter.connectionType)}`);
    if (filter.planId) conds.push(`c.plan_id = ${param(filter.planId)}`);
    if (filter.search) {
      const like = param(`%${filter.search.replace(/[\\%_]/g, (m) => `\\${m}`)}%`);
      const ors = [`c.full_name ILIKE ${like}`, `c.username ILIKE ${like}`, `c.account_number ILIKE ${like}`, `c.additional_account_number ILIKE ${like}`, `c.phone LIKE ${like}`, `host(c.ip_address) LIKE ${like}`, `c.email ILIKE ${like}`];
      if (filter.phone) ors.push(`c.phone = ${param(filter.phone)}`);
      conds.push(`(${ors.join(' OR ')})`);
    }
    const where = conds.length > 0 ? `WHERE ${conds.join(' AND ')}` : '';
    const rows = await this.db.rows<CustomerRow>(`${SELECT} ${where} ORDER BY c.created_at DESC, c.id DESC LIMIT ${Number(limit)} OFFSET ${Number(offset)}`, bind);
    const count = await this.db.rows<{ n: string }>(`SELECT count(*) AS n FROM customers c ${where}`, bind);
    return { rows, total: Number(count[0]?.n ?? 0) };
  }

  /** Whether a username (as a login or an account number) or an additional account number is taken, in one round trip. */
  async identifiersTaken(username: string, additional: string | null, exceptId: string | null, tx?: Transaction): Promise<{ username: boolean; usernameAsAccount: boolean; additional: boolean }> {
    const rows = await this.db.rows<{ u: boolean; a: boolean; x: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM customers WHERE lower(username) = lower($1) AND ($3::bigint IS NULL OR id <> $3::bigint)) AS u,
              EXISTS (SELECT 1 FROM customers WHERE (lower(account_number) = lower($1) OR lower(additional_account_number) = lower($1)) AND ($3::bigint IS NULL OR id <> $3::bigint)) AS a,
              ($2::text IS NOT NULL AND EXISTS (SELECT 1 FROM customers WHERE (lower(account_number) = lower($2) OR lower(additional_account_number) = lower($2)) AND ($3::bigint IS NULL OR id <> $3::bigint))) AS x`,
      [username, additional, exceptId],
      tx,
    );
    const r = rows[0]!;
    return { username: r.u, usernameAsAccount: r.a, additional: r.x };
  }
  /** Inserts a customer row as it is (the hot path of Add Customer: no model round trip). */
  async insert(row: NewCustomerRow, tx: Transaction): Promise<{ created_at: Date }> {
    const rows = await this.db.rows<{ created_at: Date }>(
      `INSERT INTO customers (id, connection_type, plan_id, network_id, ip_address, full_name, phone, email, username, password_enc, account_number,
                              additional_account_number, status, expires_at, activated_at, balance_minor, created_by)
       VALUES ($1, $2, $3, $4, $5::inet, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING created_at`,
      [row.id, row.connectionType, row.planId, row.networkId, row.ipAddress, row.fullName, row.phone, row.email, row.username, row.passwordEnc, row.accountNumber,
        row.additionalAccountNumber, row.status, row.expiresAt, row.activatedAt, row.balanceMinor, row.createdBy],
      tx,
    );
    return rows[0]!;
  }
  /** Inserts payments in one statement. */
  async insertPayments(payments: { customerId: string; method: string; kind: string; amountMinor: bigint; reference: string | null; note: string | null; staffUserId: string | null }[], tx: Transaction): Promise<string[]> {
    if (payments.length === 0) return [];
    const rows = await this.db.rows<{ id: string }>(
      `INSERT INTO payments (customer_id, method, kind, amount_minor, reference, note, staff_user_id)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::bigint[]) RETURNING id`,
      [payments.map((p) => p.customerId), payments.map((p) => p.method), payments.map((p) => p.kind), payments.map((p) => p.amountMinor.toString()), payments.map((p) => p.reference), payments.map((p) => p.note), payments.map((p) => p.staffUserId)],
      tx,
    );
    return rows.map((r) => String(r.id));
  }
  async usernameTaken(username: string, exceptId?: string, tx?: Transaction): Promise<boolean> {
    const rows = await this.db.rows('SELECT 1 FROM customers WHERE lower(username) = lower($1) AND ($2::bigint IS NULL OR id <> $2::bigint) LIMIT 1', [username, exceptId ?? null], tx);
    return rows.length > 0;
  }
  /** Account numbers are unique across both columns: an M-Pesa paybill reference must find one customer. */
  async accountNumberTaken(value: string, exceptId?: string, tx?: Transaction): Promise<boolean> {
    const rows = await this.db.rows(
      `SELECT 1 FROM customers WHERE (lower(account_number) = lower($1) OR lower(additional_account_number) = lower($1))
         AND ($2::bigint IS NULL OR id <> $2::bigint) LIMIT 1`,
      [value, exceptId ?? null],
      tx,
    );
    return rows.length > 0;
  }
  async usernamesLike(stem: string): Promise<string[]> {
    const rows = await this.db.rows<{ username: string }>(`SELECT lower(username) AS username FROM customers WHERE lower(username) LIKE $1 || '%'`, [stem.toLowerCase()]);
    return rows.map((r) => r.username);
  }

  /** Active customers whose time is up, locked for the sweeper. */
  async dueToExpire(now: Date, limit: number, tx: Transaction): Promise<Customer[]> {
    return Customer.findAll({ where: { status: 'active', expiresAt: { [Op.lte]: now } }, limit, transaction: tx, lock: tx.LOCK.UPDATE, skipLocked: true });
  }

  // payments
  createPayment(data: CreationAttributes<Payment>, tx: Transaction): Promise<Payment> {
    return Payment.create(data, { transaction: tx });
  }
  payments(customerId: string): Promise<PaymentRow[]> {
    return this.db.rows<PaymentRow>(
      `SELECT p.id, p.customer_id, p.method, p.kind, p.amount_minor, p.reference, p.note, p.created_at, u.username AS staff
         FROM payments p LEFT JOIN users u ON u.id = p.staff_user_id WHERE p.customer_id = $1 ORDER BY p.created_at DESC, p.id DESC`,
      [customerId],
    );
  }
  async addBalance(id: string, deltaMinor: bigint, tx: Transaction): Promise<void> {
    await this.db.exec('UPDATE customers SET balance_minor = balance_minor + $2::bigint WHERE id = $1', [id, deltaMinor.toString()], tx);
  }

  /** Routers a customer lives on: its pool's router, or (hotspot) every router of its plan. */
  async routersFor(c: { networkId: string | null; planId: string }, tx?: Transaction): Promise<string[]> {
    if (c.networkId) {
      const rows = await this.db.rows<{ router_id: string }>('SELECT p.router_id FROM networks n JOIN pools p ON p.id = n.pool_id WHERE n.id = $1', [c.networkId], tx);
      return rows.map((r) => String(r.router_id));
    }
    const rows = await this.db.rows<{ router_id: string }>('SELECT router_id FROM plan_routers WHERE plan_id = $1 ORDER BY router_id', [c.planId], tx);
    return rows.map((r) => String(r.router_id));
  }
}
