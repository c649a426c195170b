import type { Database } from '../db/database.ts';

/** The overview's figures as one statement returns them. */
export interface OverviewRow {
  today: string;
  month_start: string;
  failed_since: Date;
  by_status: Record<string, number> | null;
  owing: number;
  expiring_today: number;
  expiring_7: number;
  revenue_today: string;
  count_today: number;
  revenue_month: string;
  count_month: number;
  revenue_by_day: { day: string; amount: string; count: number }[] | null;
  active_by_day: { day: string; active: number; total: number }[] | null;
  routers_up: number;
  routers_down: number;
  routers_unknown: number;
  agents_online: number;
  agents_offline: number;
  jobs_pending: number;
  jobs_failed: number;
}

/** One group of money received. */
export interface RevenueGroupRow {
  key: string | null;
  label: string | null;
  count: number;
  amount_minor: string;
}

/** One staff member's takings of a day, by method. */
export interface CashUpGroupRow {
  staff_id: string | null;
  staff: string | null;
  method: string;
  count: number;
  amount_minor: string;
}

/**
 * Money received, one row per payment or payment reversal, in [from, to): a reversal counts against
 * the payment it reverses (its method, its cashier, its plan). Two index range scans, no join for
 * payments (the join is only for the few reversals). `$1` is the ISP's time zone.
 */
const MONEY = (from: string, to: string) => `
  SELECT (e.created_at AT TIME ZONE $1)::date AS day, e.amount_minor AS amount, 1 AS n, e.method, e.staff_user_id, e.customer_id, e.plan_id
    FROM ledger_entries e
   WHERE e.kind = 'payment' AND e.created_at >= ${from} AND e.created_at < ${to}
  UNION ALL
  SELECT (e.created_at AT TIME ZONE $1)::date, -e.amount_minor, -1, o.method, o.staff_user_id, o.customer_id, o.plan_id
    FROM ledger_entries e JOIN ledger_entries o ON o.id = e.reverses_id AND o.kind = 'payment'
   WHERE e.kind = 'reversal' AND e.created_at >= ${from} AND e.created_at < ${to}`;

/** The local day boundaries of a range of ISP days, as instants: [$2 00:00, $3 + 1 day 00:00). */
const RANGE = `(($2::date)::timestamp AT TIME ZONE $1)`;
const RANGE_END = `((($3::date) + 1)::timestamp AT TIME ZONE $1)`;

/** The bounds of an overview, worked out by the caller in the ISP's time zone. */
export interface OverviewBounds {
  today: string;
  monthStart: string;
  /** the first instant counted: the start of the month or of the 30-day chart, whichever is earlier */
  from: Date;
  /** the end of today and of the 7th day from today */
  todayEnd: Date;
  weekEnd: Date;
}

/** Aggregates for the overview and the reports: a few indexed aggregate queries, one round trip each. */
export class ReportsRepository {
  private mpesaTable: boolean | undefined;
  constructor(private readonly db: Database) {}

  /**
   * Every figure of the overview in ONE statement (one round trip): counts by status, expiries,
   * money today / this month / per day for 30 days, routers, agents and jobs.
   */
  async overview(timezone: string, k: OverviewBounds): Promise<OverviewRow> {
    // not a named statement: planned with its values each time, so the index ranges are estimated right
    const rows = await this.db.rows<OverviewRow>(
      `WITH days AS (SELECT day, sum(amount) AS amount, sum(n) AS n FROM (${MONEY('$2::timestamptz', "'infinity'")}) m GROUP BY day),
       c AS (
         SELECT count(*) FILTER (WHERE status = 'active')::int AS active, count(*) FILTER (WHERE status = 'expired')::int AS expired,
                count(*) FILTER (WHERE status = 'suspended')::int AS suspended, count(*) FILTER (WHERE status = 'inactive')::int AS inactive,
                count(*) FILTER (WHERE balance_minor < 0)::int AS owing,
                count(*) FILTER (WHERE status = 'active' AND expires_at < $5::timestamptz)::int AS expiring_today,
                count(*) FILTER (WHERE status = 'active' AND expires_at < $6::timestamptz)::int AS expiring_7
           FROM customers)
       SELECT $3::text AS today, $4::text AS month_start, now() - interval '24 hours' AS failed_since,
         json_build_object('active', c.active, 'expired', c.expired, 'suspended', c.suspended, 'inactive', c.inactive) AS by_status,
         c.owing, c.expiring_today, c.expiring_7,
         (SELECT COALESCE(sum(amount), 0)::text FROM days WHERE day = $3::date) AS revenue_today,
         (SELECT COALESCE(sum(n), 0)::int FROM days WHERE day = $3::date) AS count_today,
         (SELECT COALESCE(sum(amount), 0)::text FROM days WHERE day >= $4::date) AS revenue_month,
         (SELECT COALESCE(sum(n), 0)::int FROM days WHERE day >= $4::date) AS count_month,
         (SELECT json_agg(json_build_object('day', day::text, 'amount', amount::text, 'count', n) ORDER BY day) FROM days WHERE day > $3::date - 30) AS revenue_by_day,
         (SELECT json_agg(json_build_object('day', day::text, 'active', active, 'total', total) ORDER BY day)
            FROM customer_daily_counts WHERE day > $3::date - 30 AND day < $3::date) AS active_by_day,
         r.up AS routers_up, r.down AS routers_down, r.unknown AS routers_unknown,
         a.online AS agents_online, a.offline AS agents_offline,
         (SELECT count(*)::int FROM provisioning_jobs WHERE status = 'pending') + (SELECT count(*)::int FROM provisioning_jobs WHERE status = 'sent') AS jobs_pending,
         (SELECT count(*)::int FROM provisioning_jobs WHERE status = 'failed' AND updated_at >= now() - interval '24 hours') AS jobs_failed
         FROM c,
              (SELECT count(*) FILTER (WHERE reachable)::int AS up, count(*) FILTER (WHERE reachable = false)::int AS down,
                      count(*) FILTER (WHERE reachable IS NULL)::int AS unknown FROM routers) r,
              (SELECT count(*) FILTER (WHERE connected_instance IS NOT NULL)::int AS online,
                      count(*) FILTER (WHERE connected_instance IS NULL)::int AS offline FROM agents WHERE revoked_at IS NULL) a`,
      [timezone, k.from, k.today, k.monthStart, k.todayEnd, k.weekEnd],
    );
    return rows[0]!;
  }

  /**
   * M-Pesa payments waiting for a customer, or null while the M-Pesa queue's table is not there.
   * Read only when present, so this branch stands alone; once the table exists the answer is kept.
   */
  async unmatchedPayments(): Promise<number | null> {
    if (!this.mpesaTable) {
      const found = await this.db.rows<{ ok: boolean }>(`SELECT to_regclass('public.mpesa_transactions') IS NOT NULL AS ok`);
      this.mpesaTable = found[0]?.ok === true;
      if (!this.mpesaTable) return null;
    }
    const rows = await this.db.rows<{ n: number }>(`SELECT count(*)::int AS n FROM mpesa_transactions WHERE status = 'unmatched'`);
    return rows[0]?.n ?? 0;
  }

  /** Money received between two ISP days (both included), grouped. */
  revenue(timezone: string, from: string, to: string, groupBy: 'day' | 'plan' | 'method' | 'staff'): Promise<RevenueGroupRow[]> {
    const group = {
      day: { key: 'm.day::text', label: 'm.day::text', join: '', order: 'key' },
      method: { key: 'm.method', label: 'm.method', join: '', order: 'amount_minor DESC, key' },
      staff: { key: 'm.staff_user_id::text', label: 'min(u.username)', join: 'LEFT JOIN users u ON u.id = m.staff_user_id', order: 'amount_minor DESC, key' },
      plan: {
        key: 'COALESCE(m.plan_id, c.plan_id)::text',
        label: 'min(p.name)',
        join: 'LEFT JOIN customers c ON c.id = m.customer_id LEFT JOIN plans p ON p.id = COALESCE(m.plan_id, c.plan_id)',
        order: 'amount_minor DESC, key',
      },
    }[groupBy];
    return this.db.rows<RevenueGroupRow>(
      `SELECT ${group.key} AS key, ${group.label} AS label, sum(m.n)::int AS count, sum(m.amount)::text AS amount_minor
         FROM (${MONEY(RANGE, RANGE_END)}) m ${group.join}
        GROUP BY 1 ORDER BY ${group.order}`,
      [timezone, from, to],
    );
  }

  /** One ISP day's takings per staff member and method (NULL staff = the system: M-Pesa, automatic). */
  cashUp(timezone: string, day: string, staffId: string | undefined): Promise<CashUpGroupRow[]> {
    return this.db.rows<CashUpGroupRow>(
      `SELECT m.staff_user_id::text AS staff_id, min(u.username) AS staff, m.method, sum(m.n)::int AS count, sum(m.amount)::text AS amount_minor
         FROM (${MONEY(RANGE, RANGE_END)}) m LEFT JOIN users u ON u.id = m.staff_user_id
        WHERE ($4::bigint IS NULL OR m.staff_user_id = $4::bigint)
        GROUP BY m.staff_user_id, m.method ORDER BY min(u.username) NULLS LAST, m.method`,
      [timezone, day, day, staffId ?? null],
    );
  }

  /** Today's count of customers by status, kept for the "active customers over time" chart (idempotent). */
  async snapshot(timezone: string): Promise<void> {
    await this.db.exec(
      `INSERT INTO customer_daily_counts (day, total, active, expired, suspended, inactive, updated_at)
       SELECT (now() AT TIME ZONE $1)::date, count(*), count(*) FILTER (WHERE status = 'active'), count(*) FILTER (WHERE status = 'expired'),
              count(*) FILTER (WHERE status = 'suspended'), count(*) FILTER (WHERE status = 'inactive'), now()
         FROM customers
       ON CONFLICT (day) DO UPDATE SET total = EXCLUDED.total, active = EXCLUDED.active, expired = EXCLUDED.expired,
              suspended = EXCLUDED.suspended, inactive = EXCLUDED.inactive, updated_at = now()`,
      [timezone],
    );
  }
}
