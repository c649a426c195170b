import type { Database, Transaction } from '../db/database.ts';

/** A stored first answer. */
export interface StoredAnswer {
  request: string;
  body_hash: string;
  status: number | null;
  response: string | null;
}

/** How long a key is remembered. */
export const IDEMPOTENCY_TTL = '24 hours';

/** The `idempotency_keys` table: (caller, key) → request, body hash, status and answer. */
export class IdempotencyRepository {
  constructor(private readonly db: Database) {}

  /**
   * Claims a key inside `tx`; true when this request owns it. A concurrent claim of the same key
   * waits for the owner's transaction (at most `waitMs`, then PostgreSQL's lock_timeout error).
   */
  async claim(tx: Transaction, userId: string, key: string, request: string, bodyHash: string, waitMs: number): Promise<boolean> {
    await this.db.exec(
      `DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND created_at < now() - interval '${IDEMPOTENCY_TTL}'`,
      [userId, key],
      tx,
    );
    const [prev] = await this.db.rows<{ prev: string }>(
      `SELECT current_setting('lock_timeout') AS prev, set_config('lock_timeout', $1, true)`,
      [`${waitMs}ms`],
      tx,
    );
    const rows = await this.db.rows(
      'INSERT INTO idempotency_keys (user_id, key, request, body_hash) VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, key) DO NOTHING RETURNING 1 AS claimed',
      [userId, key, request, bodyHash],
      tx,
    );
    await this.db.rows(`SELECT set_config('lock_timeout', $1, true)`, [prev!.prev], tx);
    return rows.length === 1;
  }

  async find(tx: Transaction, userId: string, key: string): Promise<StoredAnswer | undefined> {
    const [row] = await this.db.rows<StoredAnswer>(
      'SELECT request, body_hash, status, response FROM idempotency_keys WHERE user_id = $1 AND key = $2',
      [userId, key],
      tx,
    );
    return row;
  }

  async complete(tx: Transaction, userId: string, key: string, status: number, response: string): Promise<void> {
    await this.db.exec('UPDATE idempotency_keys SET status = $3, response = $4 WHERE user_id = $1 AND key = $2', [userId, key, status, response], tx);
  }

  /** Gives up a reservation without an answer older than `ms` (its request crashed mid-call). */
  async releaseStale(tx: Transaction, userId: string, key: string, ms: number): Promise<void> {
    await this.db.exec(
      `DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status IS NULL AND created_at < now() - make_interval(secs => $3)`,
      [userId, key, ms / 1000],
      tx,
    );
  }

  /** Drops a reservation whose request failed: a retry runs afresh. */
  async release(tx: Transaction, userId: string, key: string): Promise<void> {
    await this.db.exec('DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status IS NULL', [userId, key], tx);
  }

  /** Forgets keys older than the TTL. */
  async purge(tx?: Transaction): Promise<number> {
    return this.db.exec(`DELETE FROM idempotency_keys WHERE created_at < now() - interval '${IDEMPOTENCY_TTL}'`, [], tx);
  }
}
