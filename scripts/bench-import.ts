// Figure: import a 10 000-row CSV (blank IPs, assigned from a /16 pool): stored, then provisioned on
// the emulator, both timed from the upload of the file. A process of its own with its own database
// (bench.ts runs it); the emulated router and its agent run in a site process of their own.
// Prints its figure as JSON on the last line of stdout.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { enrollAgent } from '@mtandao/agent';
import { benchDatabase, dropBenchDatabase, startBenchController } from './lib/bench-controller.ts';
import { onSiteChange } from './lib/bench-landing.ts';
import { pppoePlanBody } from './lib/bench-api.ts';

const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 10_000);
const here = path.dirname(fileURLToPath(import.meta.url));
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

const databaseUrl = await benchDatabase('import');
const c = await startBenchController(databaseUrl, 'import', { MTANDAO_RECONCILE_ON_CONNECT: '0' });
let site: ChildProcess | undefined;
try {
  const login = await fetch(`${c.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'bench-admin-password' }),
  });
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const call = async (method: string, p: string, body?: string, type = 'application/json') => {
    const res = await fetch(`${c.url}/api/v1${p}`, { method, headers: { 'content-type': type, cookie }, body });
    const out = (await res.json()) as Record<string, unknown>;
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(out).slice(0, 300)}`);
    return out;
  };
  const post = (p: string, body: unknown) => call('POST', p, JSON.stringify(body));
  const s = await post('/sites', { name: 'Import bench' });
  const router = await post('/routers', { name: 'import-router', siteId: s.id });
  const pool = await post('/pools', { name: 'import pool', routerId: router.id, networks: ['10.128.0.0/16'], gateway: '10.128.0.1' });
  await post('/plans', pppoePlanBody('Migrated 10M', pool.id));
  const stateDir = mkdtempSync(path.join(tmpdir(), 'mtandao-bench-agent-'));
  const { token } = (await post(`/sites/${s.id}/enrollment-tokens`, {})) as { token: string };
  await enrollAgent({ controllerUrl: c.url, token, stateDir });
  const spec = { latencyMs: 0, agents: [{ stateDir, routerName: 'import-router' }], agentsPerRouter: 1 };
  const child = fork(path.join(here, 'bench-site.ts'), [], {
    execArgv: ['--conditions=mtandao-source', '--import', 'tsx'],
    env: { ...process.env, BENCH_SITE: JSON.stringify(spec) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  site = child;
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench site exited ${code}`)));
    child.on('message', (m: { t: string }) => m.t === 'ready' && resolve());
  });
  // every secret landing on the emulator, by name, with the time it landed
  const landed = new Map<string, number>();
  let allLanded: () => void = () => undefined;
  const done = new Promise<void>((r) => (allLanded = r));
  onSiteChange(child, (m) => {
    if (m.path !== '/ppp/secret' || !m.name.startsWith('mig') || landed.has(m.name)) return;
    landed.set(m.name, m.at);
    if (landed.size === ROWS) allLanded();
  });
  await new Promise((r) => setTimeout(r, 500)); // the plan's profile lands first

  const lines = ['full_name,phone,username,password,plan_name,connection_type,email,ip_address,account_number'];
  for (let i = 0; i < ROWS; i++) lines.push(`Migrated Customer ${i},07${String(10_000_000 + i).padStart(8, '0')},mig${i},pw-${i}-x,Migrated 10M,pppoe,,,`);
  const file = `${lines.join('\r\n')}\r\n`;
  log(`import: ${ROWS} rows, ${(file.length / 1024).toFixed(0)} KB, blank IPs from a /16`);

  const t0 = performance.timeOrigin + performance.now();
  const dry = (await call('POST', '/imports/customers', file, 'text/csv')) as { id: string; valid: number };
  const tDry = performance.timeOrigin + performance.now();
  if (dry.valid !== ROWS) throw new Error(`the dry run found ${dry.valid} valid rows of ${ROWS}`);
  await post(`/imports/${dry.id}/commit`, {});
  let status: { status: string; created: number };
  for (;;) {
    status = (await call('GET', `/imports/${dry.id}`)) as { status: string; created: number };
    if (status.status !== 'running') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const tStored = performance.timeOrigin + performance.now();
  if (status.status !== 'done' || status.created !== ROWS) throw new Error(`the import ended ${status.status} with ${status.created} created`);
  await Promise.race([
    done,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${landed.size} of ${ROWS} secrets on the router after 120 s`)), 120_000)),
  ]);
  const tLast = Math.max(...landed.values());
  const stored = (tStored - t0) / 1000;
  const provisioned = (tLast - t0) / 1000;
  const figure = {
    figure: 'import 10 000-row CSV: stored / provisioned',
    value: `${stored.toFixed(2)} s / ${provisioned.toFixed(2)} s`,
    target: '≤ 10 s / ≤ 30 s',
    pass: stored <= 10 && provisioned <= 30,
    detail: {
      rows: ROWS,
      dryRunSeconds: +((tDry - t0) / 1000).toFixed(2),
      measuredFrom: 'the upload of the file (dry run included)',
      storedAt: 'GET /imports/:id says done',
      provisionedAt: 'the last secret appearing in the emulator process',
    },
  };
  process.stdout.write(`${JSON.stringify([figure])}\n`);
} finally {
  if (site) {
    site.removeAllListeners('exit');
    site.send({ t: 'stop' });
    await new Promise((r) => site!.once('exit', r));
  }
  await c.stop();
  if (!process.env.BENCH_KEEP_DB) await dropBenchDatabase(databaseUrl);
}
