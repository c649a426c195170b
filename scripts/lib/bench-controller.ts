// What every bench process starts with: a database of its own (a fresh PostgreSQL database when
// DATABASE_URL is set, else the embedded one) and a controller on an ephemeral port.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../controller/src/config.ts';
import { createLogger } from '../../controller/src/logger.ts';
import { startController, type Controller } from '../../controller/src/server.ts';

export const BENCH_ADMIN_PASSWORD = 'bench-admin-password';

/** A fresh PostgreSQL database named for this bench and process; undefined on the embedded one. */
export async function benchDatabase(tag: string): Promise<string | undefined> {
  const base = process.env.DATABASE_URL;
  if (!base) return undefined;
  const name = `mtandao_bench${tag ? `_${tag}` : ''}_${process.pid}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Drops a database made by {@link benchDatabase}. */
export async function dropBenchDatabase(databaseUrl: string | undefined): Promise<void> {
  if (!databaseUrl || !process.env.DATABASE_URL) return;
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${new URL(databaseUrl).pathname.slice(1)} WITH (FORCE)`);
  await admin.end();
}

/** A controller for a bench: no demo, quiet logs, the admin password above; `env` adds settings. */
export async function startBenchController(databaseUrl: string | undefined, tag: string, env: Record<string, string> = {}): Promise<Controller> {
  const config = loadConfig({
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    MTANDAO_DATA_DIR: mkdtempSync(path.join(tmpdir(), `mtandao-bench-${tag ? `${tag}-` : ''}`)),
    MTANDAO_CONTROLLER_PORT: '0',
    MTANDAO_CONTROLLER_HOST: '127.0.0.1',
    MTANDAO_ADMIN_PASSWORD: BENCH_ADMIN_PASSWORD,
    MTANDAO_DEMO: '0',
    MTANDAO_LOG_LEVEL: 'warn',
    ...env,
  });
  return startController(config, createLogger(config.logLevel));
}
