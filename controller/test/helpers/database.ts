import pg from 'pg';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../../src/db/embedded.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createSequelize } from '../../src/db/sequelize.ts';
import { createLogger } from '../../src/logger.ts';

/**
 * Test databases. With DATABASE_URL (a real PostgreSQL), the schema is migrated once into a
 * template and every call clones it into a fresh database (Immich's pattern). Without it, one
 * embedded PGlite serves the run and every call empties its tables.
 */
let embedded: EmbeddedDatabase | undefined;
let template: string | undefined;
let counter = 0;
const created: string[] = [];
const quiet = createLogger('silent');

function withDb(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: withDb(url, 'postgres') });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function migrated(url: string, lock = true): Promise<void> {
  const sequelize = createSequelize(url, quiet, { poolMax: lock ? 2 : 1 });
  try {
    await migrate(sequelize, url, quiet, { lock });
  } finally {
    await sequelize.close();
  }
}

/** Whether the run uses the embedded database. */
export const usingEmbedded = (): boolean => !process.env.DATABASE_URL;

/** A clean, migrated database for one spec file (or one test). */
export async function freshDatabase(): Promise<string> {
  const base = process.env.DATABASE_URL;
  if (!base) {
    if (!embedded) {
      embedded = await startEmbeddedDatabase({ maxConnections: 32 });
      await migrated(embedded.url, false);
    }
    await truncateAll(embedded.url);
    return embedded.url;
  }
  if (!template) {
    template = `mtandao_tpl_${process.pid}`;
    await admin(base, async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${template}`);
      await c.query(`CREATE DATABASE ${template}`);
    });
    await migrated(withDb(base, template));
  }
  const name = `mtandao_t${process.pid}_${++counter}`;
  await admin(base, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name}`);
    await c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
    // test data need not survive a power cut: commits stop waiting for the disk (a database setting, not a clone's)
    await c.query(`ALTER DATABASE ${name} SET synchronous_commit = off`);
  });
  created.push(name);
  return withDb(base, name);
}

async function truncateAll(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'`);
    if (rows.length > 0) await c.query(`TRUNCATE ${rows.map((r) => `"${r.tablename}"`).join(', ')} RESTART IDENTITY CASCADE`);
  } finally {
    await c.end();
  }
}

/** Connections dropping a run's databases at once. */
const DROP_CONNECTIONS = 6;

/** Drops what the run created (mocha root hook). */
export async function dropTestDatabases(): Promise<void> {
  const base = process.env.DATABASE_URL;
  if (base) {
    // a few at a time on their own connections: one by one, a hundred drops outlast a slow disk's patience
    const names = [...created];
    const dropOne = async (c: pg.Client) => {
      for (let name = names.shift(); name; name = names.shift()) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    };
    await Promise.all(Array.from({ length: Math.min(DROP_CONNECTIONS, names.length) }, () => admin(base, dropOne)));
    if (template) await admin(base, (c) => c.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`).catch(() => undefined));
  }
  await embedded?.stop();
  embedded = undefined;
}
