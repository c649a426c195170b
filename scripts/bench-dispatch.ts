// The dispatcher's share of the hot path (issue 13), alone: jobs written straight into the outbox
// (B at a time, with the NOTIFY a business write sends) are claimed, built, signed, sent, applied
// by a real agent on an emulated router, acknowledged and settled; the controller's CPU and its
// database backends' CPU per job, and statements per job, at each batch size B. No HTTP, no
// customer registration: what is left is the path POST /customers hands over to.
// PostgreSQL only (the jobs are written from this process): `DATABASE_URL=postgres://… node
// --conditions=mtandao-source --import tsx scripts/bench-dispatch.ts` (BENCH_JOBS jobs per batch size, 512 by default).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { enrollAgent } from '@mtandao/agent';
import { benchChild } from './lib/bench-child.ts';
import { pppoeCustomers } from './lib/bench-landing.ts';
import { processCpuMs } from './lib/proc-cpu.ts';
import { BenchApi, pppoePlanBody } from './lib/bench-api.ts';

const log = (msg: string) => process.stderr.write(`[dispatch] ${msg}\n`);
const JOBS = Number(process.env.BENCH_JOBS ?? 512);
const SIZES = (process.env.BENCH_SIZES ?? '1,4,16,64').split(',').map(Number);
type Body = Record<string, unknown>;

const base = process.env.DATABASE_URL;
if (!base) throw new Error('set DATABASE_URL (PostgreSQL): the jobs are written from this process');
const name = `mtandao_dispatch_${process.pid}`;
const admin = new pg.Client({ connectionString: base });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const u = new URL(base);
u.pathname = `/${name}`;
const controller = await benchChild('bench-hotpath-controller.ts', { BENCH_DATABASE_URL: u.toString() });
const url = controller.ready.url as string;
const api = new BenchApi(url);
await api.ok('POST', '/auth/login', { username: 'admin', password: 'bench-admin-password' });
const site = await api.ok('POST', '/sites', { name: 'Dispatch' });
const router = await api.ok('POST', '/routers', { name: 'dispatch-router', siteId: site.id });
const pool = (await api.ok('POST', '/pools', { name: 'p', routerId: router.id, networks: ['100.64.0.0/12'], gateway: '100.64.0.1' })) as {
  id: string;
  networks: Body[];
};
const plan = await api.ok('POST', '/plans', pppoePlanBody('Dispatch plan', pool.id));
const stateDir = mkdtempSync(path.join(tmpdir(), 'mtandao-dispatch-agent-'));
const { token } = (await api.ok('POST', `/sites/${site.id}/enrollment-tokens`)) as { token: string };
await enrollAgent({ controllerUrl: url, token, stateDir });
const siteProc = await benchChild('bench-site.ts', {
  BENCH_SITE: JSON.stringify({ latencyMs: 0, agents: [{ stateDir, routerName: 'dispatch-router' }], agentsPerRouter: 1 }),
});
const body = pppoeCustomers(plan.id, pool.networks[0]!.id);
const customers: string[] = [];
for (let i = 0; i < Math.max(...SIZES); i++) customers.push(String((await api.ok('POST', '/customers', body(`disp${i}`))).id));

const db = new pg.Client({ connectionString: u.toString() });
await db.connect();
const ownPid = (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
const backends = async () =>
  (await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> $2', [name, ownPid])).rows.map((r) => r.pid);
const settled = async () => {
  while ((await controller.ask<{ pending: number }>({ t: 'stats' })).pending > 0) await new Promise((r) => setTimeout(r, 20));
};
await settled();

/** B re-applies of known customers in one statement with its NOTIFY, as a business write sends them; resolves when all are applied. */
const lat = { claim: [] as number[], apply: [] as number[] };
async function round(b: number): Promise<void> {
  const { rows } = await db.query<{ id: string }>(
    `WITH j AS (
       INSERT INTO provisioning_jobs (router_id, type, reason, customer_id, expires_at)
       SELECT $1, 'customer.apply', 'bench', c, now() + interval '1 hour' FROM unnest($2::bigint[]) AS c RETURNING id, reason, router_id)
     SELECT j.id, pg_notify('mtandao_outbox', $1::text) FROM j`,
    [router.id, customers.slice(0, b)],
  );
  const ids = rows.map((r) => r.id);
  for (;;) {
    const done = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM provisioning_jobs WHERE id = ANY($1::bigint[]) AND status = 'applied'`, [ids]);
    if (done.rows[0]!.n === b) break;
    await new Promise((r) => setTimeout(r, 1));
  }
  const t = await db.query<{ claim: number; apply: number }>(
    `SELECT extract(epoch FROM max(sent_at) - min(created_at)) * 1000 AS claim, extract(epoch FROM max(completed_at) - min(sent_at)) * 1000 AS apply
       FROM provisioning_jobs WHERE id = ANY($1::bigint[])`,
    [ids],
  );
  lat.claim.push(Number(t.rows[0]!.claim));
  lat.apply.push(Number(t.rows[0]!.apply));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** CPU the controller and its database spend per ms doing nothing (timers, heartbeats), taken off the figures. */
async function idleRate(): Promise<{ ctl: number; db: number }> {
  const pids = await backends();
  const dbBefore = new Map(pids.map((p) => [p, processCpuMs(p)]));
  const before = await controller.ask<{ cpu: NodeJS.CpuUsage }>({ t: 'stats' });
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 5000));
  const after = await controller.ask<{ cpu: NodeJS.CpuUsage }>({ t: 'stats' });
  const elapsed = performance.now() - t0;
  const dbMs = (await backends()).reduce((s, p) => s + processCpuMs(p) - (dbBefore.get(p) ?? 0), 0);
  return { ctl: (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1000 / elapsed, db: dbMs / elapsed };
}
const idle = await idleRate();
log(`idle: controller ${(idle.ctl * 1000).toFixed(1)} ms/s, database ${(idle.db * 1000).toFixed(1)} ms/s`);

const results: Body[] = [];
for (const b of SIZES) {
  for (let i = 0; i < 3; i++) await round(b); // warm
  lat.claim.length = lat.apply.length = 0;
  const rounds = Math.max(8, Math.ceil(JOBS / b));
  const pids = await backends();
  const dbBefore = new Map(pids.map((p) => [p, processCpuMs(p)]));
  const before = await controller.ask<{ cpu: NodeJS.CpuUsage; statements: number }>({ t: 'stats' });
  const prof = process.env.BENCH_CPU_PROF && process.env.BENCH_PROF_BATCH === String(b);
  if (prof) await controller.ask({ t: 'profile', start: true });
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) await round(b);
  if (prof) log(`controller CPU profile: ${(await controller.ask<{ file: string }>({ t: 'profile', start: false })).file}`);
  const elapsed = performance.now() - t0;
  const after = await controller.ask<{ cpu: NodeJS.CpuUsage; statements: number }>({ t: 'stats' });
  const dbMs = (await backends()).reduce((s, p) => s + processCpuMs(p) - (dbBefore.get(p) ?? 0), 0);
  const jobs = rounds * b;
  const r = {
    batch: b,
    jobs,
    controllerMsPerJob: +(((after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1000 - idle.ctl * elapsed) / jobs).toFixed(3),
    databaseMsPerJob: +((dbMs - idle.db * elapsed) / jobs).toFixed(3),
    statementsPerJob: +((after.statements - before.statements - 2) / jobs).toFixed(2),
    msPerRound: +(elapsed / rounds).toFixed(2),
    writtenToSentMs: +median(lat.claim).toFixed(2),
    sentToAppliedMs: +median(lat.apply).toFixed(2),
  };
  log(JSON.stringify(r));
  if (process.env.BENCH_COUNT_TEXT)
    for (const [text, n] of (await controller.ask<{ top: [string, number][] }>({ t: 'stats' })).top.slice(0, 6)) log(`${String(n).padStart(6)}  ${text}`);
  results.push(r);
}

siteProc.proc.send({ t: 'stop' });
await new Promise((r) => siteProc.proc.once('exit', r));
controller.proc.send({ t: 'stop' });
await new Promise((r) => controller.proc.once('exit', r));
await db.end();
await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
await admin.end();
process.stdout.write(`${JSON.stringify(results)}\n`);
process.exit(0);
