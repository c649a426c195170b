import type { Transaction } from 'sequelize';
import type { Database } from '../db/database.ts';

/** An adoption scan as stored. */
export interface ScanRow {
  id: string;
  router_id: string;
  status: 'running' | 'done' | 'failed';
  error: string | null;
  created_at: Date;
  finished_at: Date | null;
}

/** An entry a scan found, as stored (its password encrypted). */
export interface EntryRow {
  id: string;
  scan_id: string;
  menu: string;
  router_entry_id: string;
  name: string;
  profile: string | null;
  props: Record<string, string>;
  password_enc: string | null;
  customer_id: string | null;
  plan_id: string | null;
  adopted_at: Date | null;
  error: string | null;
}

/** A customer made from a router entry. */
export interface AdoptedCustomer {
  id: string;
  entryId: string;
  connectionType: string;
  planId: string;
  networkId: string | null;
  ip: string | null;
  fullName: string;
  phone: string;
  username: string;
  passwordEnc: string;
  status: 'active' | 'suspended';
  expiresAt: Date;
}

/** Adoption scans, the entries they found, and the write of adopted customers. */
export class AdoptionRepository {
  constructor(private readonly db: Database) {}

  async createScan(routerId: string, userId: string, tx: Transaction): Promise<string> {
    const [r] = await this.db.rows<{ id: string }>(
      'INSERT INTO adoption_scans (router_id, created_by) VALUES ($1, $2) RETURNING id::text',
      [routerId, userId],
      tx,
    );
    return r!.id;
  }

  async latestScan(routerId: string): Promise<ScanRow | undefined> {
    return (
      await this.db.rows<ScanRow>(
        'SELECT id::text, router_id::text, status, error, created_at, finished_at FROM adoption_scans WHERE router_id = $1 ORDER BY id DESC LIMIT 1',
        [routerId],
      )
    )[0];
  }

  async entries(scanId: string): Promise<EntryRow[]> {
    return this.db.rows<EntryRow>(
      `SELECT id::text, scan_id::text, menu, router_entry_id, name, profile, props, password_enc, customer_id::text, plan_id::text, adopted_at, error
         FROM adoption_entries WHERE scan_id = $1 ORDER BY id`,
      [scanId],
    );
  }

  /**
   * Stores a page of found entries and, in the same transaction, takes the page (with its
   * passwords) out of the scan job's result: the passwords rest only encrypted.
   */
  async storePage(
    scanId: string,
    jobId: string,
    entries: { menu: string; routerEntryId: string; name: string; profile: string | null; props: Record<string, string>; passwordEnc: string | null }[],
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      if (entries.length > 0) {
        await this.db.exec(
          `INSERT INTO adoption_entries (scan_id, menu, router_entry_id, name, profile, props, password_enc)
           SELECT $1, x.menu, x.rid, x.name, x.profile, x.props, x.pw FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::text[]) WITH ORDINALITY AS x(menu, rid, name, profile, props, pw, ord) ORDER BY x.ord`,
          [
            scanId,
            entries.map((e) => e.menu),
            entries.map((e) => e.routerEntryId),
            entries.map((e) => e.name),
            entries.map((e) => e.profile),
            entries.map((e) => JSON.stringify(e.props)),
            entries.map((e) => e.passwordEnc),
          ],
          tx,
        );
      }
      await this.db.exec(
        `UPDATE provisioning_jobs SET result = (result - 'found') || jsonb_build_object('foundCount', $2::int) WHERE id = $1`,
        [jobId, entries.length],
        tx,
      );
    });
  }

  async finishScan(scanId: string, status: 'done' | 'failed', error: string | null): Promise<void> {
    await this.db.exec('UPDATE adoption_scans SET status = $2, error = $3, finished_at = now() WHERE id = $1', [scanId, status, error]);
  }

  /** Which of these usernames (lower-cased) customers or account numbers already hold. */
  async takenUsernames(usernames: string[]): Promise<Set<string>> {
    const lower = [...new Set(usernames.map((u) => u.toLowerCase()))];
    const rows = await this.db.rows<{ v: string }>(
      `SELECT lower(username) AS v FROM customers WHERE lower(username) = ANY($1::text[])
       UNION SELECT lower(account_number) FROM customers WHERE lower(account_number) = ANY($1::text[])
       UNION SELECT lower(additional_account_number) FROM customers WHERE lower(additional_account_number) = ANY($1::text[])`,
      [lower],
    );
    return new Set(rows.map((r) => r.v));
  }

  /** Ids for new customers. */
  async nextCustomerIds(n: number): Promise<string[]> {
    const rows = await this.db.rows<{ id: string }>(`SELECT nextval(pg_get_serial_sequence('customers', 'id'))::text AS id FROM generate_series(1, $1)`, [n]);
    return rows.map((r) => r.id);
  }

  /**
   * Writes adopted customers (no provisioning job: the router already holds them) with an audit
   * entry each, and records which entry became which customer. A row whose username or address
   * was taken meanwhile is skipped; the answer lists the customers written.
   */
  async insertCustomers(
    customers: AdoptedCustomer[],
    actor: { userId: string; username: string; requestId: string | null; ip: string | null },
    scanId: string,
    tx: Transaction,
  ): Promise<Set<string>> {
    if (customers.length === 0) return new Set();
    const [r] = await this.db.rows<{ ids: string[] | null }>(
      `WITH x AS (
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::inet[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::timestamptz[], $12::bigint[])
           AS x(id, connection_type, plan_id, network_id, ip, full_name, phone, username, password_enc, status, expires_at, entry_id)),
       c AS (
         INSERT INTO customers (id, connection_type, plan_id, network_id, ip_address, full_name, phone, username, password_enc, account_number, status, expires_at, activated_at, created_by)
         SELECT id, connection_type, plan_id, network_id, ip, full_name, phone, username, password_enc, username, status, expires_at, now(), $13 FROM x
         ON CONFLICT DO NOTHING RETURNING id, username),
       u AS (UPDATE adoption_entries e SET customer_id = c.id, plan_id = x.plan_id, adopted_at = now(), error = NULL FROM c JOIN x ON x.id = c.id WHERE e.id = x.entry_id),
       a AS (
         INSERT INTO audit_log (user_id, username, action, entity, entity_id, details, request_id, ip)
         SELECT $13, $14, 'customer.adopt', 'customer', c.id::text, jsonb_build_object('scanId', $15::text, 'username', c.username), $16, $17 FROM c)
       SELECT array_agg(id::text) AS ids FROM c`,
      [
        customers.map((c) => c.id),
        customers.map((c) => c.connectionType),
        customers.map((c) => c.planId),
        customers.map((c) => c.networkId),
        customers.map((c) => c.ip),
        customers.map((c) => c.fullName),
        customers.map((c) => c.phone),
        customers.map((c) => c.username),
        customers.map((c) => c.passwordEnc),
        customers.map((c) => c.status),
        customers.map((c) => c.expiresAt),
        customers.map((c) => c.entryId),
        actor.userId,
        actor.username,
        scanId,
        actor.requestId,
        actor.ip,
      ],
      tx,
    );
    return new Set(r?.ids ?? []);
  }

  async setErrors(errors: { entryId: string; error: string }[], tx?: Transaction): Promise<void> {
    if (errors.length === 0) return;
    await this.db.exec(
      'UPDATE adoption_entries e SET error = x.error FROM unnest($1::bigint[], $2::text[]) AS x(id, error) WHERE e.id = x.id',
      [errors.map((e) => e.entryId), errors.map((e) => e.error)],
      tx,
    );
  }

  /** Pools of a router (a plan made from one of its profiles gets them). */
  async routerPoolIds(routerId: string): Promise<string[]> {
    return (await this.db.rows<{ id: string }>('SELECT id::text FROM pools WHERE router_id = $1 ORDER BY id', [routerId])).map((r) => r.id);
  }
}
