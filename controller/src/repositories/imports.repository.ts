import type { Database } from '../db/database.ts';
import type { PlanRules } from './registration.repository.ts';

/** A plan as an import row needs it: its rules, routers, pools and their blocks. */
export interface ImportPlanRow extends PlanRules {
  blocks: { id: string; router_id: string; cidr: string; gateway: string | null; reserved: [string, string][] }[];
}

/** An import as stored. */
export interface ImportRow {
  id: string;
  filename: string | null;
  status: 'preview' | 'running' | 'done' | 'failed';
  rows: number;
  valid: number;
  invalid: number;
  processed: number;
  created: number;
  failed: number;
  error: string | null;
  created_by: string | null;
  created_at: Date;
  finished_at: Date | null;
}

/** One row of an import file as stored between the dry run and the commit. */
export interface StoredImportRow {
  row_no: number;
  cells: Record<string, string>;
  password_enc: string | null;
  status: 'valid' | 'invalid' | 'created' | 'failed';
  errors: { field: string; message: string }[];
}

/** A customer of an import batch, ready for the one statement that writes the batch. */
export interface ImportedCustomer {
  id: string;
  rowNo: number;
  connectionType: string;
  planId: string;
  networkId: string;
  ip: string;
  routerId: string;
  fullName: string;
  phone: string;
  email: string | null;
  username: string;
  passwordEnc: string;
  accountNumber: string;
  status: 'active' | 'expired';
  expiresAt: Date;
}

const lower = (xs: string[]) => [...new Set(xs.map((x) => x.toLowerCase()))];

/** Imports and their rows; the batch write of imported customers with their jobs. */
export class ImportsRepository {
  constructor(private readonly db: Database) {}

  /** Every plan by exact name, with what a row on it needs. */
  async plans(): Promise<ImportPlanRow[]> {
    return this.db.rows<ImportPlanRow>(
      `SELECT p.id::text, p.name, p.connection_type, p.price_minor::text, p.download_speed, p.upload_speed, p.validity_count, p.validity_unit, p.archived,
              ARRAY(SELECT router_id::text FROM plan_routers WHERE plan_id = p.id ORDER BY router_id) AS router_ids,
              ARRAY(SELECT pool_id::text FROM plan_pools WHERE plan_id = p.id ORDER BY pool_id) AS pool_ids,
              (SELECT COALESCE(json_agg(b ORDER BY b.cidr), '[]'::json) FROM (
                 SELECT n.id::text, po.router_id::text, n.cidr::text AS cidr, host(po.gateway) AS gateway,
                        COALESCE((SELECT json_agg(json_build_array(host(r.first_ip), host(r.last_ip))) FROM pool_reserved r WHERE r.pool_id = po.id), '[]'::json) AS reserved
                   FROM plan_pools pp JOIN pools po ON po.id = pp.pool_id JOIN networks n ON n.pool_id = po.id WHERE pp.plan_id = p.id) b) AS blocks
         FROM plans p`,
    );
  }

  /** Which of these usernames, account numbers and addresses customers already hold (lower-cased, dotted). */
  async taken(usernames: string[], accounts: string[], ips: string[]): Promise<{ usernames: Set<string>; accountNumbers: Set<string>; ips: Set<string> }> {
    const [u, a, i] = await Promise.all([
      this.db.rows<{ v: string }>('SELECT lower(username) AS v FROM customers WHERE lower(username) = ANY($1::text[])', [lower(usernames)]),
      this.db.rows<{ v: string }>(
        `SELECT lower(account_number) AS v FROM customers WHERE lower(account_number) = ANY($1::text[])
         UNION SELECT lower(additional_account_number) FROM customers WHERE lower(additional_account_number) = ANY($1::text[])`,
        [lower(accounts)],
      ),
      ips.length === 0
        ? Promise.resolve([])
        : this.db.rows<{ v: string }>('SELECT host(ip_address) AS v FROM customers WHERE ip_address = ANY($1::inet[])', [ips]),
    ]);
    return { usernames: new Set(u.map((r) => r.v)), accountNumbers: new Set(a.map((r) => r.v)), ips: new Set(i.map((r) => r.v)) };
  }

  /** Stores a dry run and its rows (in slices: a 50 000-row file is a few statements). */
  async create(
    id: string,
    meta: { filename: string | null; userId: string; rows: number; valid: number; invalid: number },
    rows: StoredImportRow[],
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      await this.db.exec(
        'INSERT INTO imports (id, filename, rows, valid, invalid, created_by) VALUES ($1, $2, $3, $4, $5, $6)',
        [id, meta.filename, meta.rows, meta.valid, meta.invalid, meta.userId],
        tx,
      );
      for (let i = 0; i < rows.length; i += 5000) {
        const slice = rows.slice(i, i + 5000);
        await this.db.exec(
          `INSERT INTO import_rows (import_id, row_no, cells, password_enc, status, errors)
           SELECT $1, x.row_no, x.cells, x.password_enc, x.status, x.errors FROM unnest($2::int[], $3::jsonb[], $4::text[], $5::text[], $6::jsonb[]) AS x(row_no, cells, password_enc, status, errors)`,
          [
            id,
            slice.map((r) => r.row_no),
            slice.map((r) => JSON.stringify(r.cells)),
            slice.map((r) => r.password_enc),
            slice.map((r) => r.status),
            slice.map((r) => JSON.stringify(r.errors)),
          ],
          tx,
        );
      }
    });
  }

  /** The id the next import will have (its rows' passwords are encrypted bound to it). */
  async nextId(): Promise<string> {
    return (await this.db.rows<{ id: string }>(`SELECT nextval(pg_get_serial_sequence('imports', 'id'))::text AS id`))[0]!.id;
  }

  async get(id: string): Promise<ImportRow | undefined> {
    return (
      await this.db.rows<ImportRow>(
        'SELECT id::text, filename, status, rows, valid, invalid, processed, created, failed, error, created_by::text, created_at, finished_at FROM imports WHERE id = $1',
        [id],
      )
    )[0];
  }

  /** Moves a dry run to running; false when it is not a dry run any more (committed twice, by two people). */
  async claim(id: string): Promise<boolean> {
    return (
      (await this.db.exec(`UPDATE imports SET status = 'running', started_at = now(), heartbeat_at = now() WHERE id = $1 AND status = 'preview'`, [id])) > 0
    );
  }

  /** The running import is alive: another controller must not take it over. */
  async heartbeat(id: string): Promise<void> {
    await this.db.exec(`UPDATE imports SET heartbeat_at = now() WHERE id = $1 AND status = 'running'`, [id]);
  }

  /**
   * Takes over the imports left running by a controller that stopped: no heartbeat for
   * `staleSeconds`. One statement, so of several controllers only one takes each.
   */
  async adoptStale(staleSeconds: number): Promise<{ id: string; user_id: string | null; username: string | null; role: string | null }[]> {
    return this.db.rows(
      `UPDATE imports i SET heartbeat_at = now()
        WHERE i.status = 'running' AND (i.heartbeat_at IS NULL OR i.heartbeat_at < now() - make_interval(secs => $1))
        RETURNING i.id::text, i.created_by::text AS user_id,
                  (SELECT username FROM users WHERE id = i.created_by) AS username, (SELECT role FROM users WHERE id = i.created_by) AS role`,
      [staleSeconds],
    );
  }

  /** Valid rows after `afterRow`, in file order. */
  async pending(id: string, afterRow: number, limit: number): Promise<StoredImportRow[]> {
    return this.db.rows<StoredImportRow>(
      `SELECT row_no, cells, password_enc, status, errors FROM import_rows WHERE import_id = $1 AND row_no > $2 AND status = 'valid' ORDER BY row_no LIMIT $3`,
      [id, afterRow, limit],
    );
  }

  /** The rows that were not imported (refused by the dry run or at commit), in file order. */
  async failures(id: string): Promise<StoredImportRow[]> {
    return this.db.rows<StoredImportRow>(
      `SELECT row_no, cells, password_enc, status, errors FROM import_rows WHERE import_id = $1 AND status IN ('invalid','failed') ORDER BY row_no`,
      [id],
    );
  }

  /** The addresses the valid rows of an import ask for by name. */
  async requestedIps(id: string): Promise<string[]> {
    const rows = await this.db.rows<{ ip: string }>(
      `SELECT cells->>'ip_address' AS ip FROM import_rows WHERE import_id = $1 AND status = 'valid' AND coalesce(cells->>'ip_address', '') <> ''`,
      [id],
    );
    return rows.map((r) => r.ip);
  }

  /** Addresses already used in these blocks, as dotted text. */
  async usedIps(networkIds: string[]): Promise<{ network_id: string; ip: string }[]> {
    if (networkIds.length === 0) return [];
    return this.db.rows('SELECT network_id::text, host(ip_address) AS ip FROM customers WHERE network_id = ANY($1::bigint[]) AND ip_address IS NOT NULL', [
      networkIds,
    ]);
  }

  /** Ids for `n` new customers (their passwords are encrypted bound to them before the insert). */
  async nextCustomerIds(n: number): Promise<string[]> {
    const rows = await this.db.rows<{ id: string }>(`SELECT nextval(pg_get_serial_sequence('customers', 'id'))::text AS id FROM generate_series(1, $1)`, [n]);
    return rows.map((r) => r.id);
  }

  /**
   * Writes a batch of customers, one provisioning job each (to its pool's router) with its first
   * event and an audit entry each, settles the batch's import rows (created, refused at the re-check,
   * or skipped because a username or address was taken meanwhile: nothing half-written), moves the
   * progress on and wakes the dispatchers with NOTIFY: ONE statement per batch.
   */
  async insertBatch(
    importId: string,
    batch: ImportedCustomer[],
    refused: { rowNo: number; errors: { field: string; message: string }[] }[],
    actor: { userId: string | null; username: string; requestId: string | null; ip: string | null },
    jobExpiresAt: Date,
  ): Promise<{ ids: string[]; routers: string[] }> {
    const [r] = await this.db.rows<{ ids: string[] | null; routers: string[] | null }>(
      `WITH x AS (
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::inet[], $6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::timestamptz[], $22::int[])
           AS x(id, connection_type, plan_id, network_id, ip, router_id, full_name, phone, email, username, password_enc, account_number, status, expires_at, row_no)),
       c AS (
         INSERT INTO customers (id, connection_type, plan_id, network_id, ip_address, full_name, phone, email, username, password_enc, account_number, status, expires_at, activated_at, created_by)
         SELECT id, connection_type, plan_id, network_id, ip, full_name, phone, email, username, password_enc, account_number, status, expires_at, now(), $15 FROM x
         ON CONFLICT DO NOTHING
         RETURNING id, username),
       j AS (
         INSERT INTO provisioning_jobs (router_id, type, reason, customer_id, payload, created_by, expires_at)
         SELECT x.router_id, 'customer.apply', 'imported from ' || $16, c.id, jsonb_build_object('username', c.username), $15, $17 FROM c JOIN x ON x.id = c.id
         RETURNING id, router_id, reason),
       a AS (
         INSERT INTO audit_log (user_id, username, action, entity, entity_id, details, request_id, ip)
         SELECT $15, $18, 'customer.import', 'customer', c.id::text, jsonb_build_object('importId', $19::text, 'username', c.username), $20, $21 FROM c),
       done AS (
         UPDATE import_rows ir SET status = 'created', customer_id = c.id, password_enc = NULL
           FROM c JOIN x ON x.id = c.id WHERE ir.import_id = $19::bigint AND ir.row_no = x.row_no),
       lost AS (
         UPDATE import_rows ir SET status = 'failed', errors = jsonb_build_array(jsonb_build_object('field', 'username', 'message', 'Taken meanwhile: the username, account number or IP address now belongs to another customer'))
           FROM x WHERE ir.import_id = $19::bigint AND ir.row_no = x.row_no AND x.id NOT IN (SELECT id FROM c)),
       no AS (
         UPDATE import_rows ir SET status = 'failed', errors = y.errors
           FROM unnest($23::int[], $24::jsonb[]) AS y(row_no, errors) WHERE ir.import_id = $19::bigint AND ir.row_no = y.row_no),
       p AS (
         UPDATE imports SET processed = processed + $25, created = created + (SELECT count(*) FROM c), failed = failed + $25 - (SELECT count(*) FROM c) WHERE id = $19::bigint)
       SELECT (SELECT array_agg(id::text) FROM c) AS ids,
              (SELECT array_agg(DISTINCT router_id::text) FROM j) AS routers,
              (SELECT pg_notify('mtandao_outbox', string_agg(DISTINCT router_id::text, ',')) FROM j WHERE EXISTS (SELECT 1 FROM j)) AS notified`,
      [
        batch.map((b) => b.id),
        batch.map((b) => b.connectionType),
        batch.map((b) => b.planId),
        batch.map((b) => b.networkId),
        batch.map((b) => b.ip),
        batch.map((b) => b.routerId),
        batch.map((b) => b.fullName),
        batch.map((b) => b.phone),
        batch.map((b) => b.email),
        batch.map((b) => b.username),
        batch.map((b) => b.passwordEnc),
        batch.map((b) => b.accountNumber),
        batch.map((b) => b.status),
        batch.map((b) => b.expiresAt),
        actor.userId,
        `import ${importId}`,
        jobExpiresAt,
        actor.username,
        importId,
        actor.requestId,
        actor.ip,
        batch.map((b) => b.rowNo),
        refused.map((f) => f.rowNo),
        refused.map((f) => JSON.stringify(f.errors)),
        batch.length + refused.length,
      ],
    );
    return { ids: r?.ids ?? [], routers: r?.routers ?? [] };
  }

  async finish(importId: string, status: 'done' | 'failed', error: string | null): Promise<void> {
    await this.db.exec('UPDATE imports SET status = $2, error = $3, finished_at = now() WHERE id = $1', [importId, status, error]);
  }
}
