// The controller of the hot-path bench in a process of its own, so its CPU time is its own: answers
// {t:'stats'} with its process.cpuUsage(), the SQL statements it sent and the jobs not yet settled.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig } from '../controller/src/config.ts';
import { createLogger } from '../controller/src/logger.ts';
import { startController } from '../controller/src/server.ts';
import { profileStretch } from './lib/cpu-profile.ts';

// every statement the controller sends, whichever path it takes (Sequelize, prepared, LISTEN)
let statements = 0;
const byText = new Map<string, number>();
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  statements++;
  if (process.env.BENCH_COUNT_TEXT) {
    const first = args[0] as string | { text?: string };
    const text = (typeof first === 'string' ? first : (first?.text ?? '')).replace(/\s+/g, ' ').slice(0, 90);
    byText.set(text, (byText.get(text) ?? 0) + 1);
  }
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;

const config = loadConfig({
  ...(process.env.BENCH_DATABASE_URL ? { DATABASE_URL: process.env.BENCH_DATABASE_URL } : {}),
  MTANDAO_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'mtandao-hotpath-')),
  MTANDAO_CONTROLLER_PORT: '0',
  MTANDAO_CONTROLLER_HOST: '127.0.0.1',
  MTANDAO_ADMIN_PASSWORD: 'bench-admin-password',
  MTANDAO_DEMO: '0',
  MTANDAO_LOG_LEVEL: 'warn',
  MTANDAO_RECONCILE_ON_CONNECT: '0',
});
let stopProfile: (() => Promise<string | undefined>) | undefined;
const c = await startController(config, createLogger(config.logLevel));
process.on('message', async (m: { t: string }) => {
  if (m.t === 'stats') {
    const pending = await c.services.db.rows<{ n: string }>(`SELECT count(*) AS n FROM provisioning_jobs WHERE status NOT IN ('applied', 'failed')`);
    const top = [...byText.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40);
    process.send?.({ t: 'stats', cpu: process.cpuUsage(), statements, pending: Number(pending[0]!.n), top });
  } else if (m.t === 'profile') {
    if ((m as { start?: boolean }).start) {
      stopProfile = await profileStretch('burst');
      process.send?.({ t: 'profile' });
    } else process.send?.({ t: 'profile', file: await stopProfile?.() });
  } else if (m.t === 'stop') {
    await c.stop();
    process.exit(0);
  }
});
process.send?.({ t: 'ready', url: c.url, pid: process.pid });
