// The embedded PostgreSQL in a process of its own, so PGlite's (WebAssembly, single-threaded)
// work runs on another core than the controller's. Started by embedded.ts through fork(); it
// reports its URL over IPC and stops when its parent goes away.
//
// PGlite trusts every connection, so nothing reaches it but through a listener that asks for the
// generated password (embedded-auth.ts) and then serves the client in this process
// (embedded-wire.ts): a Unix socket in a private directory, which the controller uses (a loopback
// TCP write costs the writer the receiving side's TCP work as well: a fifth of this process's CPU
// went into them), and a loopback port for other tools. Its files hold the staff password hashes:
// created 0600 in 0700 directories (umask), and older ones are tightened.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo, Server, Socket } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { passwordFront } from './embedded-auth.ts';
import { PgliteWire } from './embedded-wire.ts';
import { SOCKET_PORT } from './embedded.ts';

function listen(server: Server, ...at: [string] | [number, string]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(...(at as [number, string]), () => resolve());
  });
}

process.umask(0o077);

/** Files 0600, directories 0700, below and including `dir`. */
function tighten(dir: string): void {
  chmodSync(dir, 0o700);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) tighten(p);
    else if (entry.isFile() && (statSync(p).mode & 0o077) !== 0) chmodSync(p, 0o600);
  }
}

const password = process.env.MTANDAO_EMBEDDED_PASSWORD;
if (!password) throw new Error('MTANDAO_EMBEDDED_PASSWORD is required');
delete process.env.MTANDAO_EMBEDDED_PASSWORD;
const dir = process.env.MTANDAO_EMBEDDED_DIR || undefined;
if (dir) {
  mkdirSync(path.resolve(dir), { recursive: true, mode: 0o700 });
  tighten(path.resolve(dir));
}
const db = await PGlite.create(dir ? path.resolve(dir) : undefined);
if (dir) tighten(path.resolve(dir));
const wire = new PgliteWire(db, Number(process.env.MTANDAO_EMBEDDED_MAX_CONNECTIONS ?? 16));
const serve = (client: Socket, startup: Buffer, rest: Buffer) => wire.attach(client, startup, rest);
const front = passwordFront({ password, serve });
await listen(front, Number(process.env.MTANDAO_EMBEDDED_PORT ?? 0), '127.0.0.1');
const port = (front.address() as AddressInfo).port;
const socketDir = mkdtempSync(path.join(tmpdir(), 'mtandao-pg-')); // 0700
const local = passwordFront({ password, serve });
// where libpq and node-postgres look for a server's socket in a directory
await listen(local, path.join(socketDir, `.s.PGSQL.${SOCKET_PORT}`));

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  front.close();
  local.close();
  await wire.stop();
  await db.close().catch(() => undefined);
  rmSync(socketDir, { recursive: true, force: true });
  process.exit(0);
}
process.on('disconnect', () => void stop());
process.on('message', (m) => {
  if (m === 'stop') void stop();
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop());
// the parent may be gone already (it gave up waiting): then stop quietly
process.send?.({ port, socketDir }, (err: Error | null) => {
  if (err) void stop();
});
