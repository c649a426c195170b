// The embedded PostgreSQL in a process of its own, so PGlite's (WebAssembly, single-threaded)
// work runs on another core than the controller's. Started by embedded.ts through fork(); it
// reports its URL over IPC and stops when its parent goes away.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const dir = process.env.MTANDAO_EMBEDDED_DIR || undefined;
if (dir) mkdirSync(path.dirname(path.resolve(dir)), { recursive: true });
const db = await PGlite.create(dir ? path.resolve(dir) : undefined);
const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: Number(process.env.MTANDAO_EMBEDDED_PORT ?? 0), maxConnections: Number(process.env.MTANDAO_EMBEDDED_MAX_CONNECTIONS ?? 16) });
await server.start();
const port = Number(server.getServerConn().split(':').pop());

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await server.stop().catch(() => undefined);
  await db.close().catch(() => undefined);
  process.exit(0);
}
process.on('disconnect', () => void stop());
process.on('message', (m) => {
  if (m === 'stop') void stop();
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop());
process.send?.({ url: `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable` });
