import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import type { Sequelize } from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';
import type { Logger } from '../logger.ts';

/** Lock key so that two controllers starting together migrate once. */
const MIGRATION_LOCK = 7_246_001;

/** A migration file: raw SQL run in a transaction. */
export interface Migration {
  up(sequelize: Sequelize): Promise<void>;
}

const migrationsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/**
 * Applies pending migrations under a session-level advisory lock held on a dedicated connection.
 * Never `sync()`: the schema is what the migrations say.
 */
export async function migrate(sequelize: Sequelize, url: string, logger: Logger, options: { lock?: boolean } = {}): Promise<string[]> {
  // PGlite is one process's database: no second connection, no lock needed
  const lockClient = options.lock === false ? undefined : new pg.Client({ connectionString: url });
  await lockClient?.connect();
  try {
    await lockClient?.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    // NNNN-name.ts from the sources, NNNN-name.js compiled (dist/); the name stored is NNNN-name either way
    const files = readdirSync(migrationsDir)
      .filter((f) => /^\d{4}-.*\.[jt]s$/.test(f) && !f.endsWith('.d.ts'))
      .sort();
    const umzug = new Umzug({
      migrations: files.map((file) => ({
        name: file.replace(/\.[jt]s$/, ''),
        async up() {
          const mod = (await import(pathToFileURL(path.join(migrationsDir, file)).href)) as Migration;
          await mod.up(sequelize);
        },
      })),
      storage: new SequelizeStorage({ sequelize, tableName: 'schema_migrations' }),
      logger: undefined,
    });
    const done = await umzug.up();
    if (done.length > 0) logger.info({ migrations: done.map((m) => m.name) }, 'applied database migrations');
    return done.map((m) => m.name);
  } finally {
    await lockClient?.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await lockClient?.end().catch(() => undefined);
  }
}
