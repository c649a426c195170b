// The controller's CPU per API request through real HTTP, for work on its HTTP layer (issue 13):
// `add` (POST /customers, no agent connected, so the jobs wait), `invalid` (the same body refused
// by validation: the HTTP layer, zod and the error answer, no database) and `get` (GET
// /customers/:id). The controller runs in this process; the load comes from a child process (this
// file again, BENCH_HTTP_CLIENT set) with 16 kept-alive connections. Prints one JSON line: CPU ms
// per request of each run. Embedded database unless DATABASE_URL is set (a database of its own is
// created and dropped). SCEN=add,invalid,get R=3 N=2000 BENCH_CPU_PROF=dir.
// `node --conditions=mtandao-source --import tsx scripts/bench-http-layer.ts`
import { fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { profileStretch } from './lib/cpu-profile.ts';
import { pppoePlanBody } from './lib/bench-api.ts';

interface Req {
  method: string;
  path: string;
  body?: unknown;
}
interface Job {
  base: string;
  cookie: string;
  reqs: Req[];
  expect: number;
}

/** The load: every request of the job, 16 at a time, each answered with the expected status. */
async function client(job: Job): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const one = (r: Req) =>
    new Promise<void>((resolve, reject) => {
      const payload = r.body === undefined ? undefined : JSON.stringify(r.body);
      const headers: Record<string, string | number> = { cookie: job.cookie, 'content-type': 'application/json' };
      if (payload) headers['content-length'] = Buffer.byteLength(payload);
      const req = http.request(`${job.base}${r.path}`, { method: r.method, agent, headers }, (res) => {
        res.resume();
        res.once('end', () => (res.statusCode === job.expect ? resolve() : reject(new Error(`${r.method} ${r.path}: ${res.statusCode}`))));
      });
      req.once('error', reject);
      req.end(payload);
    });
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < job.reqs.length) await one(job.reqs[next++]!);
    }),
  );
  agent.destroy();
}

async function main(): Promise<void> {
  const { loadConfig } = await import('../controller/src/config.ts');
  const { createLogger } = await import('../controller/src/logger.ts');
  const { startController } = await import('../controller/src/server.ts');
  let dbUrl: string | undefined;
  const dbName = `bench_http_${process.pid}`;
  if (process.env.DATABASE_URL) {
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const u = new URL(process.env.DATABASE_URL);
    u.pathname = `/${dbName}`;
    dbUrl = u.toString();
  }
  const config = loadConfig({
    ...(dbUrl ? { DATABASE_URL: dbUrl } : {}),
    MTANDAO_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'mtandao-bench-http-')),
    MTANDAO_CONTROLLER_PORT: '0',
    MTANDAO_CONTROLLER_HOST: '127.0.0.1',
    MTANDAO_ADMIN_PASSWORD: 'bench-admin-password',
    MTANDAO_DEMO: '0',
    MTANDAO_LOG_LEVEL: 'warn',
    MTANDAO_RECONCILE_ON_CONNECT: '0',
  });
  const c = await startController(config, createLogger(config.logLevel));
  let cookie = '';
  const ok = async <T = Record<string, string>>(method: string, p: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${c.url}/api/v1${p}`, {
      method,
      headers: { 'content-type': 'application/json', cookie },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const set = res.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0]!;
    const out = (await res.json()) as T;
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(out)}`);
    return out;
  };
  await ok('POST', '/auth/login', { username: 'admin', password: 'bench-admin-password' });
  const site = await ok('POST', '/sites', { name: 'HTTP bench' });
  const router = await ok('POST', '/routers', { name: 'http-router', siteId: site.id });
  const pool = await ok<{ id: string; networks: { id: string }[] }>('POST', '/pools', {
    name: 'pool',
    routerId: router.id,
    networks: ['100.64.0.0/12'],
    gateway: '100.64.0.1',
  });
  const plan = await ok('POST', '/plans', pppoePlanBody('Plan', pool.id));
  let ip = 256;
  let seq = 0;
  const body = (over: Record<string, unknown> = {}) => {
    const n = ip++;
    return {
      connectionType: 'pppoe',
      planId: plan.id,
      networkId: pool.networks[0]!.id,
      ipAddress: `100.${64 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`,
      fullName: 'Bench Customer',
      phone: '0712345678',
      username: `user${seq++}`,
      payment: { method: 'cash' },
      autoActivate: true,
      ...over,
    };
  };
  const first = await ok('POST', '/customers', body());
  const N = Number(process.env.N ?? 2000);
  const scenarios: Record<string, () => { reqs: Req[]; expect: number }> = {
    add: () => ({ reqs: Array.from({ length: Math.min(N, 1000) }, () => ({ method: 'POST', path: '/api/v1/customers', body: body() })), expect: 201 }),
    invalid: () => ({ reqs: Array.from({ length: N }, () => ({ method: 'POST', path: '/api/v1/customers', body: body({ fullName: '' }) })), expect: 422 }),
    get: () => ({ reqs: Array.from({ length: N }, () => ({ method: 'GET', path: `/api/v1/customers/${first.id}` })), expect: 200 }),
  };
  const run = async (name: string): Promise<number> => {
    const { reqs, expect } = scenarios[name]!();
    const before = process.cpuUsage();
    const child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, BENCH_HTTP_CLIENT: '1' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.send({ base: c.url, cookie, reqs, expect } satisfies Job);
    const code = await new Promise((r) => child.once('exit', r));
    if (code !== 0) throw new Error(`the client exited ${String(code)}`);
    const cpu = process.cpuUsage(before);
    return +((cpu.user + cpu.system) / 1000 / reqs.length).toFixed(3);
  };
  const which = (process.env.SCEN ?? 'add,invalid,get').split(',');
  for (const s of which) await run(s); // the JIT warms up on every path
  const result: Record<string, number[]> = {};
  const stop = await profileStretch(`http-${which.join('-')}`);
  for (let r = 0; r < Number(process.env.R ?? 3); r++) for (const s of which) (result[s] ??= []).push(await run(s));
  const file = await stop();
  process.stdout.write(`${JSON.stringify({ cpuMsPerRequest: result, ...(file ? { profile: file } : {}) })}\n`);
  await c.stop();
  if (process.env.DATABASE_URL) {
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }
}

if (process.env.BENCH_HTTP_CLIENT) {
  process.once('message', (job: Job) => {
    client(job).then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
} else {
  await main();
  process.exit(0);
}
