import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** A running embedded PostgreSQL (PGlite) served over the PostgreSQL wire protocol. */
export interface EmbeddedDatabase {
  /** Through its Unix socket (in a private directory): what the controller uses. */
  url: string;
  /** Through its loopback port, for tools that cannot reach a Unix socket. */
  tcpUrl: string;
  stop(): Promise<void>;
}

/** The port number in the name of the embedded database's socket (`.s.PGSQL.<port>`, as clients look for it). */
export const SOCKET_PORT = 5432;

/**
 * The embedded database's password: generated once and kept 0600 beside its directory (`<dir>.password`),
 * or a fresh one for an in-memory database.
 */
function embeddedPassword(dir: string | undefined): string {
  if (!dir) return randomBytes(24).toString('hex');
  const file = `${path.resolve(dir)}.password`;
  if (existsSync(file)) {
    const saved = readFileSync(file, 'utf8').trim();
    if (saved) return saved;
  }
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const fresh = randomBytes(24).toString('hex');
  writeFileSync(file, `${fresh}\n`, { mode: 0o600 });
  return fresh;
}

/**
 * Starts PGlite on `dir` (or in memory) in a child process and serves it on a Unix socket and a
 * loopback port, so Sequelize and `pg` talk to it like any PostgreSQL and its work runs beside the
 * controller's, not in its event loop. PGlite is one backend: the child (embedded-wire.ts) lets one
 * connection at a time use it, from a sequence's first message to its Sync and through a transaction.
 * `MTANDAO_EMBEDDED_CPU_PROF=dir`: the child writes a V8 CPU profile of its life there when it stops.
 */
export async function startEmbeddedDatabase(options: { dir?: string; port?: number; maxConnections?: number } = {}): Promise<EmbeddedDatabase> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const password = embeddedPassword(options.dir);
  // compiled (dist/*.js) it forks plain JavaScript; from the sources (tests, dev) through tsx
  const fromSource = import.meta.url.endsWith('.ts');
  const profileDir = process.env.MTANDAO_EMBEDDED_CPU_PROF;
  const child = fork(path.join(here, fromSource ? 'embedded-server.ts' : 'embedded-server.js'), [], {
    execArgv: [
      ...(fromSource ? ['--conditions=mtandao-source', '--import', 'tsx'] : []),
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`] : []),
    ],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: {
      ...process.env,
      MTANDAO_EMBEDDED_PASSWORD: password,
      MTANDAO_EMBEDDED_DIR: options.dir ? path.resolve(options.dir) : '',
      MTANDAO_EMBEDDED_PORT: String(options.port ?? 0),
      MTANDAO_EMBEDDED_MAX_CONNECTIONS: String(options.maxConnections ?? 16),
    },
  });
  const { port, socketDir } = await new Promise<{ port: number; socketDir: string }>((resolve, reject) => {
    child.once('message', (m: { port?: number; socketDir?: string }) =>
      m.port && m.socketDir ? resolve({ port: m.port, socketDir: m.socketDir }) : reject(new Error('the embedded database did not start')),
    );
    child.once('exit', (code) => reject(new Error(`the embedded database exited (${code}) before it was ready`)));
    child.once('error', reject);
  });
  child.removeAllListeners('exit');
  const tcpUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres?sslmode=disable`;
  // node-postgres and Sequelize take a socket directory from `host`
  const url = `postgres://postgres:${password}@localhost:${SOCKET_PORT}/postgres?host=${encodeURIComponent(socketDir)}&sslmode=disable`;
  return {
    url,
    tcpUrl,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send('stop');
      await exited;
    },
  };
}

/**
 * Whether a URL leads to PGlite. PGlite is a single backend: a transaction holds it, so a query
 * made outside the transaction while it is open would wait for it (and a PGlite served by
 * pglite-socket interleaves the extended-protocol messages of concurrent connections). Mtandao
 * talks to it over exactly one connection (and without LISTEN, which it cannot deliver across
 * connections).
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
