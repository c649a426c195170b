import type { Transaction } from 'sequelize';
import type { Database } from '../db/database.ts';

/** A customer the sweep just expired, or one due a reminder, with what its SMS needs. */
export interface SweptCustomer {
  id: string;
  username: string;
  full_name: string;
  phone: string;
  account_number: string;
  balance_minor: string;
  expires_at: Date;
  plan_name: string;
  price_minor: string;
}

/** A customer due a reminder `days` before expiry. */
export interface ReminderCandidate extends SweptCustomer {
  days: number;
}

/** The routers a set of customers sits on (a network's pool router, else the plan's routers). */
const TARGETS = (from: string) => `
  SELECT u.id AS customer_id, u.username, p.router_id FROM ${from} u JOIN networks n ON n.id = u.network_id JOIN pools p ON p.id = n.pool_id
  UNION ALL
  SELECT u.id, u.username, pr.router_id FROM ${from} u JOIN plan_routers pr ON pr.plan_id = u.plan_id WHERE u.network_id IS NULL`;

/** A plan's validity as an interval. */
export const PLAN_INTERVAL = (p: string) =>
  `CASE ${p}.validity_unit WHEN 'minutes' THEN make_interval(mins => ${p}.validity_count) WHEN 'hours' THEN make_interval(hours => ${p}.validity_count)
     WHEN 'days' THEN make_interval(days => ${p}.validity_count) ELSE make_interval(months => ${p}.validity_count) END`;

/**
 * The expiry sweep's statements. Each is set-based: one statement changes every due customer and
 * writes the provisioning jobs, their events and the audit rows with it.
 */
export class ExpiryRepository {
  constructor(private readonly db: Database) {}

  /** Milliseconds until the next active customer is due (expiry + grace); undefined when none is active. */
  async msUntilNextDue(graceSeconds: number): Promise<number | undefined> {
    const rows = await this.db.rows<{ ms: string | null }>(
      `SELECT (extract(epoch FROM (min(expires_at) + make_interval(secs => $1) - now())) * 1000)::bigint AS ms FROM customers WHERE status = 'active'`,
      [graceSeconds],
    );
    const ms = rows[0]?.ms;
    return ms === null || ms === undefined ? undefined : Number(ms);
  }

  /**
   * Serialises sweeps across instances for the length of the transaction (the leader's session lock
   * is the first guard; this one also holds if two instances each believe they lead for a moment).
   */
  async trySweepLock(key: number, tx: Transaction): Promise<boolean> {
    const rows = await this.db.rows<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [key], tx);
    return rows[0]?.ok === true;
  }

  /**
   * Auto-renews active customers at (or past) expiry whose balance covers the price of their plan,
   * or of the plan scheduled for the next renewal (which then becomes their plan). One statement
   * for every due customer: a plan charge per period (period_start/period_end) with its running
   * balance, the cached balance and expiry moved, router jobs when the plan changed, an audit row.
   *
   * Catch-up (the controller was down): periods are renewed one after another from the old expiry
   * while the balance covers them, up to the first period that ends in the future, so no time is
   * lost or charged twice. A customer whose balance runs out before reaching now keeps the renewed
   * periods and is then expired by `expireDue` in the same transaction (past expiry + grace).
   */
  async autoRenew(limit: number, maxPeriods: number, jobExpiresAt: Date, tx: Transaction): Promise<{ renewed: number; periods: number; routerIds: string[] }> {
    const period = PLAN_INTERVAL('d');
    const rows = await this.db.rows<{ renewed: string; periods: string | null; routers: string | null }>(
      `WITH due AS (
         SELECT c.id, c.username, c.connection_type, c.ip_address, c.network_id, c.plan_id AS old_plan_id, c.balance_minor, c.expires_at,
                t.id AS plan_id, t.price_minor, t.validity_unit, t.validity_count, (c.next_plan_id IS NOT NULL AND c.next_plan_id <> c.plan_id) AS switched
           FROM customers c JOIN plans t ON t.id = COALESCE(c.next_plan_id, c.plan_id)
          WHERE c.status = 'active' AND c.expires_at <= now() AND t.price_minor > 0 AND c.balance_minor >= t.price_minor
          ORDER BY c.expires_at LIMIT $1 FOR UPDATE OF c SKIP LOCKED),
       n AS (
         SELECT d.*, ${period} AS len,
                LEAST(d.balance_minor / d.price_minor, $2::bigint,
                      CASE WHEN d.validity_unit = 'months'
                           THEN floor((extract(year FROM age(now(), d.expires_at)) * 12 + extract(month FROM age(now(), d.expires_at))) / d.validity_count)::bigint + 1
                           ELSE floor(extract(epoch FROM now() - d.expires_at) / extract(epoch FROM ${period}))::bigint + 1 END)::int AS periods
           FROM due d),
       led AS (
         INSERT INTO ledger_entries (customer_id, customer_username, side, kind, amount_minor, balance_after_minor, note, plan_id, period_start, period_end, staff_user_id)
         SELECT n.id, n.username, 'charge', 'plan', n.price_minor, n.balance_minor - g.i * n.price_minor,
                CASE WHEN n.periods > 1 THEN 'auto-renewed from the balance (' || g.i || ' of ' || n.periods || ', catching up)' ELSE 'auto-renewed from the balance' END,
                n.plan_id, n.expires_at + (g.i - 1) * n.len, n.expires_at + g.i * n.len, NULL
           FROM n, generate_series(1, n.periods) AS g(i) ORDER BY n.id, g.i),
       upd AS (
         UPDATE customers c SET balance_minor = c.balance_minor - n.periods * n.price_minor, expires_at = n.expires_at + n.periods * n.len,
                plan_id = n.plan_id, next_plan_id = NULL, updated_at = now()
           FROM n WHERE c.id = n.id
         RETURNING c.id, c.expires_at),
       sw AS (SELECT * FROM n WHERE n.switched),
       applied AS (${TARGETS('sw')}),
       removed AS (
         SELECT s.id AS customer_id, s.username, s.connection_type, s.ip_address, pr.router_id FROM sw s JOIN plan_routers pr ON pr.plan_id = s.old_plan_id
          WHERE s.network_id IS NULL AND NOT EXISTS (SELECT 1 FROM plan_routers q WHERE q.plan_id = s.plan_id AND q.router_id = pr.router_id)),
       j AS (
         INSERT INTO provisioning_jobs (router_id, type, reason, customer_id, payload, created_by, expires_at)
         SELECT router_id, 'customer.remove', 'auto-renewed onto the scheduled plan: router no longer carries the customer', customer_id,
                jsonb_build_object('customer', jsonb_strip_nulls(jsonb_build_object('customerId', customer_id::text, 'connectionType', connection_type, 'username', username, 'ipAddress', host(ip_address))), 'username', username),
                NULL::bigint, $3::timestamptz FROM removed
         UNION ALL
         SELECT router_id, 'customer.apply', 'auto-renewed onto the scheduled plan', customer_id, jsonb_build_object('username', username), NULL::bigint, $3::timestamptz FROM applied
         RETURNING id, reason, router_id),
       a AS (
         INSERT INTO audit_log (user_id, username, action, entity, entity_id, details)
         SELECT NULL, 'system', 'customer.auto-renew', 'customer', n.id::text,
                jsonb_build_object('periods', n.periods, 'charged', ((n.periods * n.price_minor) / 100.0)::numeric(20,2)::text, 'planId', n.plan_id::text,
                                   'from', n.expires_at, 'expiresAt', u.expires_at, 'switchedPlan', n.switched)
           FROM n JOIN upd u ON u.id = n.id)
       SELECT count(*)::text AS renewed, sum(n.periods)::text AS periods, (SELECT string_agg(DISTINCT router_id::text, ',') FROM j) AS routers FROM n`,
      [limit, maxPeriods, jobExpiresAt],
      tx,
    );
    const r = rows[0];
    return { renewed: Number(r?.renewed ?? 0), periods: Number(r?.periods ?? 0), routerIds: r?.routers ? r.routers.split(',') : [] };
  }

  /**
   * Expires active customers past expiry + grace (oldest first, at most `limit`), queues a
   * `customer.apply` per router (the router blocks an expired customer) and audits each, in one
   * statement. Returns the customers and the routers that got jobs.
   */
  async expireDue(graceSeconds: number, limit: number, jobExpiresAt: Date, tx: Transaction): Promise<{ customers: SweptCustomer[]; routerIds: string[] }> {
    const rows = await this.db.rows<SweptCustomer & { routers: string | null }>(
      `WITH due AS (
         SELECT c.id FROM customers c
          WHERE c.status = 'active' AND c.expires_at <= now() - make_interval(secs => $1)
          ORDER BY c.expires_at LIMIT $2 FOR UPDATE SKIP LOCKED),
       upd AS (
         -- = ANY(ARRAY(...)): an index lookup per id (a join here makes the planner hash the whole table)
         UPDATE customers c SET status = 'expired', updated_at = now() WHERE c.id = ANY(ARRAY(SELECT id FROM due))
         RETURNING c.id, c.plan_id, c.network_id, c.username, c.full_name, c.phone, c.account_number, c.balance_minor, c.expires_at),
       targets AS (${TARGETS('upd')}),
       j AS (
         INSERT INTO provisioning_jobs (router_id, type, reason, customer_id, payload, created_by, expires_at)
         SELECT router_id, 'customer.apply', 'subscription expired', customer_id, jsonb_build_object('username', username), NULL, $3 FROM targets
         RETURNING id, reason, router_id),
       a AS (
         INSERT INTO audit_log (user_id, username, action, entity, entity_id, details)
         SELECT NULL, 'system', 'customer.expire', 'customer', u.id::text, jsonb_build_object('expiresAt', u.expires_at, 'graceSeconds', $1::int) FROM upd u)
       SELECT u.id, u.username, u.full_name, u.phone, u.account_number, u.balance_minor, u.expires_at, pl.name AS plan_name, pl.price_minor,
              (SELECT string_agg(DISTINCT router_id::text, ',') FROM j) AS routers
         FROM upd u JOIN plans pl ON pl.id = u.plan_id ORDER BY u.expires_at`,
      [Math.round(graceSeconds), limit, jobExpiresAt],
      tx,
    );
    const routers = rows[0]?.routers;
    return { customers: rows.map(({ routers: _r, ...c }) => c), routerIds: routers ? routers.split(',') : [] };
  }

  /** Wakes the dispatchers of every instance at commit. */
  async notifyOutbox(routerIds: string[], tx: Transaction): Promise<void> {
    if (routerIds.length > 0) await this.db.exec(`SELECT pg_notify('mtandao_outbox', $1)`, [routerIds.join(',')], tx);
  }

  /**
   * Active customers within a reminder window that have not had that reminder for this period.
   * Each gets only the smallest window it is in (a customer first seen 10 hours before expiry gets
   * the 1-day reminder, not the 3-day one as well), and only when the plan's period is longer than
   * the window (a daily plan would otherwise be reminded at every purchase).
   */
  async reminderCandidates(days: number[], limit: number, tx: Transaction): Promise<ReminderCandidate[]> {
    if (days.length === 0) return [];
    return this.db.rows<ReminderCandidate>(
      `WITH w AS (SELECT unnest($1::int[]) AS d),
       cand AS (
         SELECT c.id, c.username, c.full_name, c.phone, c.account_number, c.balance_minor, c.expires_at, pl.name AS plan_name, pl.price_minor,
                ${PLAN_INTERVAL('pl')} AS period,
                (SELECT min(w.d) FROM w WHERE c.expires_at <= now() + make_interval(days => w.d)) AS days
           FROM customers c JOIN plans pl ON pl.id = c.plan_id
          WHERE c.status = 'active' AND c.expires_at > now() AND c.expires_at <= now() + make_interval(days => $2))
       SELECT id, username, full_name, phone, account_number, balance_minor, expires_at, plan_name, price_minor, days FROM cand
        WHERE period > make_interval(days => days)
          AND NOT EXISTS (SELECT 1 FROM sms_messages m WHERE m.dedupe_key = 'reminder:' || cand.id || ':' || floor(extract(epoch FROM cand.expires_at))::bigint || ':' || cand.days)
        ORDER BY expires_at LIMIT $3`,
      [days, Math.max(...days), limit],
      tx,
    );
  }
}

/** The dedupe key of a reminder: one per customer, period (its expiry) and window. */
export const reminderKey = (customerId: string, expiresAt: Date, days: number) => `reminder:${customerId}:${Math.floor(expiresAt.getTime() / 1000)}:${days}`;
/** The dedupe key of an expired notice: one per customer and period. */
export const expiredKey = (customerId: string, expiresAt: Date) => `expired:${customerId}:${Math.floor(expiresAt.getTime() / 1000)}`;
