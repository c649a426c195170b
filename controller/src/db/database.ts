import type { QueryResult } from 'pg';
import type { Sequelize, Transaction } from 'sequelize';
import { currentTransaction } from './sequelize.ts';

interface PgClient {
  query<T>(config: { name?: string; text: string; values: unknown[] }): Promise<QueryResult<T & Record<string, unknown>>>;
}

/** The database handle repositories share. */
export class Database {
  /**
   * @param namedStatements PGlite is one backend shared by every connection that ever opened: a
   * statement prepared by a previous connection is still there, so names are not used with it.
   */
  constructor(
    readonly sequelize: Sequelize,
    private readonly namedStatements = true,
  ) {}

  /** Transactions opened by {@link enclosing}: a `transaction()` inside one joins it. */
  private readonly enclosingTx = new WeakSet<Transaction>();

  /**
   * Runs `fn` in one transaction: everything or nothing. Inside {@link enclosing} it is a savepoint
   * of the enclosing transaction (its own failure rolls back only its part, its commit waits for
   * the enclosing one).
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const outer = currentTransaction();
    if (outer && this.enclosingTx.has(rootOf(outer))) return this.sequelize.transaction({ transaction: outer }, fn);
    return this.sequelize.transaction(fn);
  }

  /**
   * Runs `fn` in a transaction that every `transaction()` and untied query made inside it joins:
   * a whole request, with what it stores about itself (Idempotency-Key), commits as one.
   */
  enclosing<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.sequelize.transaction(async (tx) => {
      this.enclosingTx.add(tx);
      return fn(tx);
    });
  }

  /** A raw query returning rows. */
  async rows<T>(sql: string, bind: unknown[] = [], tx?: Transaction): Promise<T[]> {
    return (await this.run<T>(undefined, sql, bind, tx)).rows;
  }

  /**
   * A raw query as a named prepared statement, for the hot paths: PostgreSQL plans it once per
   * connection instead of on every call (planning the multi-CTE writes costs more than running them).
   */
  async prepared<T>(name: string, sql: string, params: unknown[], tx?: Transaction): Promise<T[]> {
    return (await this.run<T>(name, sql, params, tx)).rows;
  }

  /** A raw statement; returns the affected row count where the driver reports it. */
  async exec(sql: string, bind: unknown[] = [], tx?: Transaction): Promise<number> {
    return (await this.run(undefined, sql, bind, tx)).rowCount;
  }

  /**
   * Runs raw SQL straight on the driver (Sequelize's query layer re-scans the text and reshapes
   * the result on every call): on the transaction's connection when given one or when the caller
   * runs inside one, else on a connection of the pool for this statement alone.
   */
  private async run<T>(name: string | undefined, sql: string, params: unknown[], tx?: Transaction): Promise<{ rows: T[]; rowCount: number }> {
    const manager = this.sequelize.connectionManager as unknown as {
      getConnection(o: object): Promise<PgClient>;
      releaseConnection(c: PgClient): Promise<void>;
    };
    tx ??= currentTransaction();
    const own = tx ? undefined : await manager.getConnection({ type: 'write' });
    const client = (tx ? (tx as unknown as { connection: PgClient }).connection : own)!;
    try {
      const res = await client.query<T>(name && this.namedStatements ? { name, text: sql, values: params } : { text: sql, values: params });
      // several statements in one text answer one result each: the last one is the answer
      const last = (Array.isArray(res) ? res[res.length - 1] : res) as QueryResult<T & Record<string, unknown>> | undefined;
      return { rows: (last?.rows ?? []) as T[], rowCount: last?.rowCount ?? 0 };
    } finally {
      if (own) await manager.releaseConnection(own);
    }
  }
}

/** The outermost transaction of a savepoint (itself when it is one). */
export function rootOf(tx: Transaction): Transaction {
  let t = tx as Transaction & { parent?: Transaction };
  while (t.parent) t = t.parent as Transaction & { parent?: Transaction };
  return t;
}

/** Runs `fn` once the current transaction (its outermost one) commits, or now outside one. */
export function afterCommit(fn: () => void, tx: Transaction | undefined = currentTransaction()): void {
  if (tx) rootOf(tx).afterCommit(fn);
  else fn();
}

/** PostgreSQL's error for a violated unique index, with the constraint's name. */
export function uniqueViolation(err: unknown): string | undefined {
  const pg = pgError(err);
  return pg?.code === '23505' ? (pg.constraint ?? 'unique') : undefined;
}

/** The PostgreSQL error inside a Sequelize error, or a raw `pg` error itself. */
function pgError(err: unknown): { code?: string; constraint?: string } | undefined {
  const e = err as
    { code?: string; constraint?: string; parent?: { code?: string; constraint?: string }; original?: { code?: string; constraint?: string } } | undefined;
  return e?.parent ?? e?.original ?? (typeof e?.code === 'string' ? e : undefined);
}

/** PostgreSQL's error for a violated exclusion constraint. */
export function exclusionViolation(err: unknown): string | undefined {
  const pg = pgError(err);
  return pg?.code === '23P01' ? (pg.constraint ?? 'exclusion') : undefined;
}

/** PostgreSQL's error for a violated foreign key. */
export function foreignKeyViolation(err: unknown): string | undefined {
  const pg = pgError(err);
  // 23503 for NO ACTION keys, 23001 for RESTRICT ones
  return pg?.code === '23503' || pg?.code === '23001' ? (pg.constraint ?? 'foreign_key') : undefined;
}

export type { Transaction };
