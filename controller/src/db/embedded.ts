import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** A running embedded PostgreSQL (PGlite) served over the PostgreSQL wire protocol. */
export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts PGlite on `dir` (or in memory) and serves it on a loopback port, so Sequelize and `pg` talk
 * to it like any PostgreSQL. PGlite is one backend: pglite-socket multiplexes connections and keeps
 * a transaction's statements together, so transactions stay isolated from one another.
 */
export async function startEmbeddedDatabase(options: { dir?: string; port?: number; maxConnections?: number } = {}): Promise<EmbeddedDatabase> {
  let dataDir: string | undefined;
  if (options.dir) {
    dataDir = path.resolve(options.dir);
    mkdirSync(path.dirname(dataDir), { recursive: true });
  }
  const db = await PGlite.create(dataDir);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: options.port ?? 0, maxConnections: options.maxConnections ?? 16 });
  await server.start();
  const conn = server.getServerConn();
  const port = Number(conn.split(':').pop());
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

/**
 * Whether a URL leads to PGlite. PGlite is a single backend: pglite-socket interleaves the
 * extended-protocol messages of concurrent connections outside transactions, so Mtandao talks to
 * it over exactly one connection (and without LISTEN, which it cannot deliver across connections).
 */
export async function isPglite(url: string): Promise<boolean> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ version: string }>('SELECT version()');
    return /PGlite/i.test(rows[0]?.version ?? '');
  } finally {
    await client.end();
  }
}
