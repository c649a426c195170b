import type { CustomerSort } from '@mtandao/protocol/api';
import type { Transaction } from 'sequelize';
import type { Database } from '../db/database.ts';
import { CUSTOMER_SELECT, type CustomerRow } from './customers.repository.ts';

/** Filters of the customer list (and of its CSV export). */
export interface CustomerFilter {
  search?: string | undefined;
  /** the search term as a normalised phone number, when it is one */
  phone?: string | undefined;
  status?: string | undefined;
  connectionType?: string | undefined;
  planId?: string | undefined;
  siteId?: string | undefined;
  routerId?: string | undefined;
  /** active, expiring by the end of the N-th day from today in `timezone` (0 = today) */
  expiringWithinDays?: number | undefined;
  owing?: boolean | undefined;
  timezone: string;
}

/** ORDER BY of each sort, ascending; `nulls last` whatever the direction (a customer never activated has no expiry). */
const ORDER: Record<CustomerSort, { sql: (dir: string) => string; dir: 'asc' | 'desc' }> = {
  newest: { sql: (d) => `c.created_at ${d}, c.id ${d}`, dir: 'desc' },
  name: { sql: (d) => `lower(c.full_name) ${d}, c.id ${d}`, dir: 'asc' },
  expiry: { sql: (d) => `c.expires_at ${d} NULLS LAST, c.id ${d}`, dir: 'asc' },
  balance: { sql: (d) => `c.balance_minor ${d}, c.id ${d}`, dir: 'asc' },
};

/** A router a customer lives on: its block's pool's router, or (hotspot, no block) a router of its plan. */
const ON_ROUTER = (routerCond: string) => `(
  EXISTS (SELECT 1 FROM networks n JOIN pools po ON po.id = n.pool_id JOIN routers r ON r.id = po.router_id WHERE n.id = c.network_id AND ${routerCond})
  OR (c.network_id IS NULL AND EXISTS (SELECT 1 FROM plan_routers pr JOIN routers r ON r.id = pr.router_id WHERE pr.plan_id = c.plan_id AND ${routerCond})))`;

/** The customer list: filters, sorts and paging in SQL (100 000 customers). */
export class CustomerListRepository {
  constructor(private readonly db: Database) {}

  private where(filter: CustomerFilter): { where: string; bind: unknown[] } {
    const conds: string[] = [];
    const bind: unknown[] = [];
    const param = (v: unknown) => {
      bind.push(v);
      return `$${bind.length}`;
    };
    if (filter.status) conds.push(`c.status = ${param(filter.status)}`);
    if (filter.connectionType) conds.push(`c.connection_type = ${param(filter.connectionType)}`);
    if (filter.planId) conds.push(`c.plan_id = ${param(filter.planId)}`);
    if (filter.routerId) conds.push(ON_ROUTER(`r.id = ${param(filter.routerId)}::bigint`));
    if (filter.siteId) conds.push(ON_ROUTER(`r.site_id = ${param(filter.siteId)}::bigint`));
    if (filter.owing) conds.push('c.balance_minor < 0');
    if (filter.expiringWithinDays !== undefined) {
      const tz = param(filter.timezone);
      // the end of the N-th local day from today, as an instant
      conds.push(
        `c.status = 'active' AND c.expires_at < ((date_trunc('day', now() AT TIME ZONE ${tz}) + ${param(filter.expiringWithinDays + 1)} * interval '1 day') AT TIME ZONE ${tz})`,
      );
    }
    if (filter.search) {
      const like = param(`%${filter.search.replace(/[\\%_]/g, (m) => `\\${m}`)}%`);
      const ors = [
        `c.full_name ILIKE ${like}`,
        `c.username ILIKE ${like}`,
        `c.account_number ILIKE ${like}`,
        `c.additional_account_number ILIKE ${like}`,
        `c.phone LIKE ${like}`,
        `host(c.ip_address) LIKE ${like}`,
        `c.email ILIKE ${like}`,
      ];
      if (filter.phone) ors.push(`c.phone = ${param(filter.phone)}`);
      conds.push(`(${ors.join(' OR ')})`);
    }
    return { where: conds.length > 0 ? `WHERE ${conds.join(' AND ')}` : '', bind };
  }

  /** A page of customers and the count of all that match. */
  async list(
    filter: CustomerFilter,
    sort: CustomerSort,
    order: 'asc' | 'desc' | undefined,
    limit: number | undefined,
    offset = 0,
  ): Promise<{ rows: CustomerRow[]; total: number }> {
    const { where, bind } = this.where(filter);
    const by = ORDER[sort];
    const page = limit === undefined ? '' : `LIMIT ${Number(limit)} OFFSET ${Number(offset)}`;
    const [rows, count] = await Promise.all([
      this.db.rows<CustomerRow>(`${CUSTOMER_SELECT} ${where} ORDER BY ${by.sql(order ?? by.dir)} ${page}`, bind),
      limit === undefined ? Promise.resolve(undefined) : this.db.rows<{ n: string }>(`SELECT count(*) AS n FROM customers c ${where}`, bind),
    ]);
    return { rows, total: count ? Number(count[0]?.n ?? 0) : rows.length };
  }

  /** The encrypted passwords of customers, by id (an admin's export with passwords). */
  async passwordsOf(ids: string[]): Promise<Map<string, string>> {
    const rows = await this.db.rows<{ id: string; password_enc: string }>('SELECT id::text, password_enc FROM customers WHERE id = ANY($1::bigint[])', [ids]);
    return new Map(rows.map((r) => [r.id, r.password_enc]));
  }

  /** How many customers the filters match (bulk SMS shows it before staff confirm). */
  async countMatching(filter: CustomerFilter): Promise<number> {
    const { where, bind } = this.where(filter);
    const count = await this.db.rows<{ n: string }>(`SELECT count(*) AS n FROM customers c ${where}`, bind);
    return Number(count[0]?.n ?? 0);
  }

  /** Every customer the filters match, with what an SMS about them needs. */
  smsSubjects(filter: CustomerFilter, tx?: Transaction) {
    const { where, bind } = this.where(filter);
    return this.db.rows<{
      id: string;
      username: string;
      full_name: string;
      phone: string;
      account_number: string;
      balance_minor: string;
      expires_at: Date | null;
      plan_name: string;
      price_minor: string;
    }>(
      `SELECT c.id, c.username, c.full_name, c.phone, c.account_number, c.balance_minor, c.expires_at, p.name AS plan_name, p.price_minor
         FROM customers c JOIN plans p ON p.id = c.plan_id ${where} ORDER BY c.id`,
      bind,
      tx,
    );
  }
}
