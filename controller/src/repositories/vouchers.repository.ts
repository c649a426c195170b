import type { Transaction } from 'sequelize';
import type { Database } from '../db/database.ts';

/** A voucher row with what the list shows beside it. */
export interface VoucherRow {
  id: string;
  batch_id: string;
  plan_id: string;
  plan_name: string;
  code: string;
  status: 'unused' | 'active' | 'expired' | 'revoked';
  first_login_at: Date | null;
  expires_at: Date | null;
  uptime_seconds: string;
  bytes_in: string;
  bytes_out: string;
  mac_address: string | null;
  revoked_at: Date | null;
  created_at: Date;
}

/** A batch row with its plan. */
export interface BatchRow {
  id: string;
  plan_id: string;
  plan_name: string;
  price_minor: string;
  validity_count: number;
  validity_unit: string;
  data_limit_bytes: string | null;
  count: number;
  prefix: string;
  length: number;
  charset: 'digits' | 'letters' | 'mixed';
  validity_from: 'first-login' | 'sale';
  created_by_name: string | null;
  created_at: Date;
}

/** Voucher filters of the list. */
export interface VoucherFilter {
  batchId?: string | undefined;
  status?: string | undefined;
  search?: string | undefined;
}

/** What the router reported of one voucher's user. */
export interface VoucherUse {
  voucherId: string;
  uptimeSeconds: number;
  bytesIn: number;
  bytesOut: number;
}

const SELECT = `SELECT v.*, p.name AS plan_name FROM vouchers v JOIN plans p ON p.id = v.plan_id`;

/** Every SQL statement about vouchers and hotspot sessions. */
export class VouchersRepository {
  constructor(private readonly db: Database) {}

  async createBatch(
    b: { planId: string; count: number; prefix: string; length: number; charset: string; validityFrom: string; createdBy: string | null },
    tx: Transaction,
  ): Promise<string> {
    const [row] = await this.db.rows<{ id: string }>(
      'INSERT INTO voucher_batches (plan_id, count, prefix, length, charset, validity_from, created_by) VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING id',
      [b.planId, b.count, b.prefix, b.length, b.charset, b.validityFrom, b.createdBy],
      tx,
    );
    return String(row!.id);
  }

  /** Inserts codes; a code already taken is skipped (the unique index decides). Returns the codes inserted. */
  async insertCodes(batchId: string, planId: string, codes: string[], tx: Transaction): Promise<string[]> {
    const rows = await this.db.rows<{ code: string }>(
      `INSERT INTO vouchers (batch_id, plan_id, code) SELECT $1, $2, c FROM unnest($3::text[]) AS c
       ON CONFLICT DO NOTHING RETURNING code`,
      [batchId, planId, codes],
      tx,
    );
    return rows.map((r) => r.code);
  }

  /** Validity from sale: the batch's vouchers expire one validity after now. */
  async startValidity(batchId: string, tx: Transaction): Promise<void> {
    await this.db.exec(
      `UPDATE vouchers v SET expires_at = now() + (CASE p.validity_unit WHEN 'minutes' THEN make_interval(mins => p.validity_count)
               WHEN 'hours' THEN make_interval(hours => p.validity_count) WHEN 'days' THEN make_interval(days => p.validity_count)
               ELSE make_interval(months => p.validity_count) END)
         FROM plans p WHERE p.id = v.plan_id AND v.batch_id = $1`,
      [batchId],
      tx,
    );
  }

  /** Ids of a batch's vouchers, in order. */
  async idsOfBatch(batchId: string, tx?: Transaction): Promise<string[]> {
    return (await this.db.rows<{ id: string }>('SELECT id FROM vouchers WHERE batch_id = $1 ORDER BY id', [batchId], tx)).map((r) => String(r.id));
  }

  async batch(id: string): Promise<BatchRow | undefined> {
    const [row] = await this.db.rows<BatchRow>(
      `SELECT b.*, p.name AS plan_name, p.price_minor, p.validity_count, p.validity_unit, p.data_limit_bytes, u.username AS created_by_name
         FROM voucher_batches b JOIN plans p ON p.id = b.plan_id LEFT JOIN users u ON u.id = b.created_by WHERE b.id = $1`,
      [id],
    );
    return row;
  }

  async batches(limit: number, offset: number): Promise<{ rows: (BatchRow & { unused: string; active: string })[]; total: number }> {
    const rows = await this.db.rows<BatchRow & { unused: string; active: string }>(
      `SELECT b.*, p.name AS plan_name, p.price_minor, p.validity_count, p.validity_unit, p.data_limit_bytes, u.username AS created_by_name,
              (SELECT count(*) FROM vouchers v WHERE v.batch_id = b.id AND v.status = 'unused') AS unused,
              (SELECT count(*) FROM vouchers v WHERE v.batch_id = b.id AND v.status = 'active') AS active
         FROM voucher_batches b JOIN plans p ON p.id = b.plan_id LEFT JOIN users u ON u.id = b.created_by
        ORDER BY b.id DESC LIMIT $1 OFFSET $2`,
      [limit, offset],
    );
    const [n] = await this.db.rows<{ n: string }>('SELECT count(*) AS n FROM voucher_batches');
    return { rows, total: Number(n?.n ?? 0) };
  }

  async list(f: VoucherFilter, limit: number, offset: number): Promise<{ rows: VoucherRow[]; total: number }> {
    const conds: string[] = [];
    const bind: unknown[] = [];
    const add = (cond: string, v: unknown) => {
      bind.push(v);
      conds.push(cond.replaceAll('?', `$${bind.length}`));
    };
    if (f.batchId) add('v.batch_id = ?', f.batchId);
    if (f.status) add('v.status = ?', f.status);
    if (f.search) add("upper(v.code) LIKE '%' || upper(?) || '%'", f.search.replace(/[%_\\]/g, ''));
    const where = conds.length ? `WHERE ${conds.join(' AND ')}` : '';
    const rows = await this.db.rows<VoucherRow>(`${SELECT} ${where} ORDER BY v.id DESC LIMIT ${Number(limit)} OFFSET ${Number(offset)}`, bind);
    const [n] = await this.db.rows<{ n: string }>(`SELECT count(*) AS n FROM vouchers v ${where}`, bind);
    return { rows, total: Number(n?.n ?? 0) };
  }

  async get(id: string, tx?: Transaction, lock = false): Promise<VoucherRow | undefined> {
    const [row] = await this.db.rows<VoucherRow>(`${SELECT} WHERE v.id = $1${lock ? ' FOR UPDATE OF v' : ''}`, [id], tx);
    return row;
  }

  async byCode(code: string): Promise<VoucherRow | undefined> {
    const [row] = await this.db.rows<VoucherRow>(`${SELECT} WHERE upper(v.code) = upper($1)`, [code]);
    return row;
  }

  async byIds(ids: string[]): Promise<(VoucherRow & { validity_count: number; validity_unit: string; validity_from: string })[]> {
    if (ids.length === 0) return [];
    return this.db.rows(
      `SELECT v.*, p.name AS plan_name, p.validity_count, p.validity_unit, b.validity_from
         FROM vouchers v JOIN plans p ON p.id = v.plan_id JOIN voucher_batches b ON b.id = v.batch_id
        WHERE v.id = ANY($1::bigint[]) ORDER BY v.id`,
      [ids],
    );
  }

  /** Every voucher of a batch, for the print sheet. */
  async ofBatch(batchId: string): Promise<VoucherRow[]> {
    return this.db.rows<VoucherRow>(`${SELECT} WHERE v.batch_id = $1 ORDER BY v.id`, [batchId]);
  }

  async revoke(id: string, tx: Transaction): Promise<void> {
    await this.db.exec("UPDATE vouchers SET status = 'revoked', revoked_at = now(), removal_queued_at = now() WHERE id = $1", [id], tx);
  }

  /** The routers a plan's vouchers live on. */
  async routersOfPlan(planId: string, tx?: Transaction): Promise<string[]> {
    return (await this.db.rows<{ router_id: string }>('SELECT router_id FROM plan_routers WHERE plan_id = $1 ORDER BY router_id', [planId], tx)).map((r) =>
      String(r.router_id),
    );
  }

  /**
   * Records what a router reported of vouchers' users: first use makes a voucher active, its expiry
   * counted from that first login when its batch says so. Returns the vouchers that just became active.
   */
  async recordUse(uses: VoucherUse[], readAt: Date): Promise<void> {
    if (uses.length === 0) return;
    await this.db.exec(
      `WITH u AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) AS t(id, up, bi, bo))
       UPDATE vouchers v SET
          uptime_seconds = GREATEST(v.uptime_seconds, u.up), bytes_in = GREATEST(v.bytes_in, u.bi), bytes_out = GREATEST(v.bytes_out, u.bo),
          status = CASE WHEN v.status = 'unused' THEN 'active' ELSE v.status END,
          first_login_at = COALESCE(v.first_login_at, $5::timestamptz - make_interval(secs => u.up)),
          expires_at = CASE WHEN v.expires_at IS NOT NULL THEN v.expires_at
                            ELSE ($5::timestamptz - make_interval(secs => u.up)) + (SELECT CASE p.validity_unit WHEN 'minutes' THEN make_interval(mins => p.validity_count)
                                 WHEN 'hours' THEN make_interval(hours => p.validity_count) WHEN 'days' THEN make_interval(days => p.validity_count)
                                 ELSE make_interval(months => p.validity_count) END FROM plans p WHERE p.id = v.plan_id) END
         FROM u WHERE v.id = u.id AND v.status IN ('unused','active')`,
      [uses.map((u) => u.voucherId), uses.map((u) => u.uptimeSeconds), uses.map((u) => u.bytesIn), uses.map((u) => u.bytesOut), readAt],
    );
  }

  /** Vouchers logged in right now: at least active, their first login now when not known yet. */
  async recordOnline(codes: string[], readAt: Date): Promise<void> {
    await this.db.exec(
      `UPDATE vouchers v SET status = 'active', first_login_at = $2,
          expires_at = CASE WHEN b.validity_from = 'first-login' THEN $2::timestamptz + (CASE p.validity_unit WHEN 'minutes' THEN make_interval(mins => p.validity_count)
               WHEN 'hours' THEN make_interval(hours => p.validity_count) WHEN 'days' THEN make_interval(days => p.validity_count)
               ELSE make_interval(months => p.validity_count) END) ELSE v.expires_at END
         FROM plans p, voucher_batches b
        WHERE p.id = v.plan_id AND b.id = v.batch_id AND v.status = 'unused' AND upper(v.code) = ANY($1::text[])`,
      [codes, readAt],
    );
  }

  /** Marks vouchers past their expiry (sold ones may expire unused) or their data expired; returns them (their users come off the routers). */
  async expireDue(tx: Transaction): Promise<{ id: string; plan_id: string }[]> {
    return this.db.rows(
      `UPDATE vouchers v SET status = 'expired', removal_queued_at = now() FROM plans p
        WHERE p.id = v.plan_id AND v.status IN ('active', 'unused')
          AND (v.expires_at <= now() OR (p.data_limit_bytes IS NOT NULL AND v.bytes_in + v.bytes_out >= p.data_limit_bytes))
        RETURNING v.id, v.plan_id`,
      [],
      tx,
    );
  }

  /** Replaces a router's list of who is online with what it just reported. */
  async replaceSessions(
    routerId: string,
    sessions: { mac: string; user: string; address: string; uptime: number; bytesIn: number; bytesOut: number }[],
    readAt: Date,
    firstPart: boolean,
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      if (firstPart) await this.db.exec('DELETE FROM hotspot_sessions WHERE router_id = $1', [routerId], tx);
      if (sessions.length === 0) return;
      await this.db.exec(
        `INSERT INTO hotspot_sessions (router_id, mac_address, username, address, uptime_seconds, bytes_in, bytes_out, read_at)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[]), (SELECT $8::timestamptz) t
         ON CONFLICT (router_id, mac_address, username) DO UPDATE SET address = EXCLUDED.address, uptime_seconds = EXCLUDED.uptime_seconds,
           bytes_in = EXCLUDED.bytes_in, bytes_out = EXCLUDED.bytes_out, read_at = EXCLUDED.read_at`,
        [
          routerId,
          sessions.map((s) => s.mac),
          sessions.map((s) => s.user),
          sessions.map((s) => s.address),
          sessions.map((s) => s.uptime),
          sessions.map((s) => s.bytesIn),
          sessions.map((s) => s.bytesOut),
          readAt,
        ],
        tx,
      );
    });
  }

  /** Who is online on a router, as last read. */
  async sessions(routerId: string): Promise<
    {
      mac_address: string;
      username: string;
      address: string;
      uptime_seconds: string;
      bytes_in: string;
      bytes_out: string;
      read_at: Date;
      voucher_id: string | null;
      customer_id: string | null;
    }[]
  > {
    return this.db.rows(
      `SELECT s.*, v.id AS voucher_id, c.id AS customer_id FROM hotspot_sessions s
         LEFT JOIN vouchers v ON upper(v.code) = upper(s.username)
         LEFT JOIN customers c ON lower(c.username) = lower(s.username)
        WHERE s.router_id = $1 ORDER BY s.username, s.mac_address`,
      [routerId],
    );
  }

  /**
   * Live vouchers that belong on a router (its plans'), unless their delivery is still under way or
   * failed within the hour (a router that refuses them is not sent them again every minute).
   */
  async liveOnRouter(routerId: string): Promise<{ planId: string; ids: string[] }[] | undefined> {
    const busy = await this.db.rows(
      `SELECT 1 FROM provisioning_jobs WHERE router_id = $1 AND type = 'vouchers.apply'
          AND (status IN ('pending','sent') OR (status = 'failed' AND updated_at > now() - interval '1 hour')) LIMIT 1`,
      [routerId],
    );
    if (busy.length > 0) return undefined;
    const rows = await this.db.rows<{ plan_id: string; ids: string[] }>(
      `SELECT v.plan_id, array_agg(v.id ORDER BY v.id) AS ids FROM vouchers v JOIN plan_routers pr ON pr.plan_id = v.plan_id
        WHERE pr.router_id = $1 AND v.status IN ('unused','active') GROUP BY v.plan_id`,
      [routerId],
    );
    return rows.map((r) => ({ planId: String(r.plan_id), ids: r.ids.map(String) }));
  }

  /** The router id of a router name at an agent's site. */
  async routerAt(siteId: string, name: string): Promise<string | undefined> {
    const [row] = await this.db.rows<{ id: string }>('SELECT id FROM routers WHERE site_id = $1 AND lower(name) = lower($2)', [siteId, name]);
    return row ? String(row.id) : undefined;
  }
}
