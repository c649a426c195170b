import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { Sequelize, type Transaction } from 'sequelize';
import type { Logger } from '../logger.ts';

// BIGINT (money in minor units, ids) arrives as a string from pg; keep it that way: ids are
// strings in the API and money is parsed to bigint where it is summed.
pg.types.setTypeParser(20, (v: string) => v);

/**
 * Continuation-local transactions: a query made inside `sequelize.transaction(fn)` joins that
 * transaction even when nobody passed it along. On the embedded database (one connection) a
 * forgotten `tx` would otherwise wait for the connection its own transaction holds.
 */
const store = new AsyncLocalStorage<Map<string, unknown>>();
Sequelize.useCLS({
  get: (key: string) => store.getStore()?.get(key),
  set: (key: string, value: unknown) => void store.getStore()?.set(key, value),
  run: (fn: (ctx: Map<string, unknown>) => unknown) => {
    const ctx = new Map<string, unknown>();
    return store.run(ctx, () => fn(ctx));
  },
  bind: <F>(fn: F) => fn,
});

/** The transaction the current code runs in, if any. */
export const currentTransaction = (): Transaction | undefined => (store.getStore()?.get('transaction') as Transaction | null | undefined) ?? undefined;

/** Opens the Sequelize instance every repository uses. */
export function createSequelize(url: string, logger: Logger, options: { poolMax?: number } = {}): Sequelize {
  const sequelize = new Sequelize(url, {
    dialect: 'postgres',
    dialectModule: pg,
    logging: (sql: string, timing?: number) => logger.trace({ sql, ms: timing }, 'sql'),
    benchmark: true,
    pool: { max: options.poolMax ?? 10, min: 0, idle: 10_000, acquire: 30_000 },
    define: { underscored: true, timestamps: true },
  });
  const pids = new Set<number>();
  ownBackends.set(sequelize, pids);
  sequelize.addHook('afterConnect', async (connection) => {
    const client = connection as pg.Client & { processID: number };
    pids.add(client.processID);
    // every transaction is READ COMMITTED: said once per connection rather than by a SET in each one
    await client.query(`SET default_transaction_isolation TO 'read committed'`);
  });
  sequelize.addHook('beforeDisconnect', (connection) => void pids.delete((connection as pg.Client & { processID: number }).processID));
  return sequelize;
}

const ownBackends = new WeakMap<Sequelize, Set<number>>();

/**
 * The database server's process ids of this instance's own pooled connections: a NOTIFY whose
 * sender is one of them was sent by this instance (which already woke itself in-process).
 */
export const ownBackendPids = (sequelize: Sequelize): ReadonlySet<number> => ownBackends.get(sequelize) ?? new Set();

/** Runs `fn` outside any transaction of the caller: background work started by a request (an import's commit) must not join the request's transaction. */
export const outsideTransaction = <T>(fn: () => T): T => store.exit(fn);
