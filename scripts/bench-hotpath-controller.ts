// The controller of the hot-path bench in a process of its own, so its CPU time is its own: answers
// {t:'stats'} with its process.cpuUsage(), the SQL statements it sent and the jobs not yet settled.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../controller/src/config.ts';
import { createLogger } from '../controller/src/logger.ts';
import { startController } from '../controller/src/server.ts';
import { profileStretch } from './lib/cpu-profile.ts';
import { countStatements } from './lib/statement-counter.ts';

const sql = countStatements();

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
    process.send?.({
      t: 'stats',
      cpu: process.cpuUsage(),
      statements: sql.count,
      pending: Number(pending[0]!.n),
      top: sql.top(40),
      batching: c.services.registration.batching,
    });
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
