// `npm run bench`: the figures of SPEC section 9, each beside its target, as a table and as JSON.
// Uses DATABASE_URL when set (a fresh database is created on that server), else the embedded one.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { enrollAgent } from '@mtandao/agent';
import type { Controller } from '../controller/src/server.ts';
import { benchDatabase, dropBenchDatabase, startBenchController } from './lib/bench-controller.ts';
import { onSiteChange, pppoeCustomers, watchSecrets } from './lib/bench-landing.ts';
import { profileStretch } from './lib/cpu-profile.ts';
import { countStatements } from './lib/statement-counter.ts';
import { childrenOf, processCpuMs } from './lib/proc-cpu.ts';
import { pppoePlanBody } from './lib/bench-api.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
type Body = Record<string, unknown>;

interface Figure {
  figure: string;
  value: string;
  target: string;
  pass: boolean | null;
  detail?: Record<string, unknown>;
}
const figures: Figure[] = [];
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const ms = (x: number) => `${x.toFixed(2)} ms`;

// every SQL statement the in-process controller sends
const sql = countStatements();

/** The database's processes: the bench database's backends on PostgreSQL, else the embedded database (this process's child). */
async function databasePids(c: Controller): Promise<number[]> {
  if (process.env.DATABASE_URL) {
    const rows = await c.services.db.rows<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()');
    return rows.map((r) => Number(r.pid));
  }
  return childrenOf(process.pid);
}

class Api {
  cookie = '';
  constructor(readonly base: string) {}
  async call<T = Body>(method: string, p: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.base}/api/v1${p}`, {
      method,
      headers: { 'content-type': 'application/json', cookie: this.cookie },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const set = res.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0]!;
    return { status: res.status, body: (await res.json()) as T };
  }
  async ok<T = Body>(method: string, p: string, body?: unknown): Promise<T> {
    const r = await this.call<T>(method, p, body);
    if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }
}

function startSite(spec: { latencyMs: number; agents: { stateDir: string; routerName: string }[]; agentsPerRouter: number }): Promise<ChildProcess> {
  const child = fork(path.join(here, 'bench-site.ts'), [], {
    execArgv: ['--conditions=mtandao-source', '--import', 'tsx'],
    env: { ...process.env, BENCH_SITE: JSON.stringify(spec) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`bench site exited ${code}`)));
    child.on('message', (m: { t: string }) => {
      if (m.t === 'ready') resolve(child);
    });
  });
}

async function stopSite(child: ChildProcess): Promise<void> {
  child.removeAllListeners('exit');
  child.send({ t: 'stop' });
  await new Promise((r) => child.once('exit', r));
}

/** Runs GETs from a separate process and returns their timings. */
function httpClient(job: { base: string; cookie: string; paths: string[]; warmup: number }): Promise<{ times: number[]; results: number }> {
  const child = fork(path.join(here, 'bench-client.ts'), [], {
    execArgv: ['--conditions=mtandao-source', '--import', 'tsx'],
    env: { ...process.env, BENCH_CLIENT: JSON.stringify(job) },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as { times: number[]; results: number }) : reject(new Error(`bench client exited ${code}`)),
    );
  });
}

/** Runs a figure's module in a process of its own (the agent never shares the controller's). */
function inOwnProcess<T>(module: string): Promise<T> {
  const child = fork(path.join(here, module), [], {
    execArgv: ['--conditions=mtandao-source', '--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as T) : reject(new Error(`${module} exited ${code}`))));
  });
}

/** The POSTing client process. */
async function postClient() {
  const child = fork(path.join(here, 'bench-client.ts'), [], {
    execArgv: ['--conditions=mtandao-source', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve) => child.once('message', () => resolve()));
  return {
    ask<T>(msg: unknown): Promise<T> {
      return new Promise((resolve, reject) => {
        child.once('message', (m: { t: string; message?: string }) => (m.t === 'error' ? reject(new Error(m.message)) : resolve(m as T)));
        child.send(msg as object);
      });
    },
    stop: () => child.kill(),
  };
}

async function enrolledAgent(api: Api, controllerUrl: string, siteId: string): Promise<string> {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'mtandao-bench-agent-'));
  const { token } = await api.ok<{ token: string }>('POST', `/sites/${siteId}/enrollment-tokens`);
  await enrollAgent({ controllerUrl, token, stateDir });
  return stateDir;
}

/** Figures 1 and 2: the available-IP prefix search on a /16 with 40 000 used and a /8 with 200 000 used. */
async function benchIpSearch(c: Controller, api: Api): Promise<void> {
  log('IP search: filling a /16 with 40 000 and a /8 with 200 000 allocated addresses');
  const site = await api.ok('POST', '/sites', { name: 'IPAM bench' });
  const router = await api.ok('POST', '/routers', { name: 'ipam-router', siteId: site.id });
  const p16 = await api.ok<{ id: string; networks: Body[] }>('POST', '/pools', {
    name: 'bench /16',
    routerId: router.id,
    networks: ['172.20.0.0/16'],
    gateway: '172.20.0.1',
  });
  const p8 = await api.ok<{ id: string; networks: Body[] }>('POST', '/pools', {
    name: 'bench /8',
    routerId: router.id,
    networks: ['10.0.0.0/8'],
    gateway: '10.0.0.1',
  });
  const plan = await api.ok('POST', '/plans', {
    name: 'IPAM bench plan',
    connectionType: 'static',
    price: '1',
    downloadSpeed: '1M',
    uploadSpeed: '1M',
    validity: { count: 1, unit: 'days' },
    poolIds: [p16.id, p8.id],
  });
  const n16 = p16.networks[0]!.id as string;
  const n8 = p8.networks[0]!.id as string;
  // addresses scattered at random over the block (a real ISP's pool after years of churn)
  const fill = (networkId: string, base: string, size: number, count: number, tag: string) =>
    c.services.db.exec(
      `INSERT INTO customers (connection_type, plan_id, network_id, ip_address, full_name, phone, username, password_enc, account_number, status)
       SELECT 'static', $1, $2, $3::inet + off, 'Bench', '254700000000', $4 || off, 'v1:x', $4 || off, 'inactive'
         FROM (SELECT DISTINCT (2 + floor(random() * ($5 - 4)))::bigint AS off FROM generate_series(1, $6)) o
        WHERE $3::inet + off <> $7::inet ON CONFLICT DO NOTHING`,
      [plan.id, networkId, base, tag, size, count, base.replace(/\.0$/, '.1')],
    );
  // the /16: exactly 40 000 of its addresses, drawn without repeats
  await c.services.db.exec(
    `INSERT INTO customers (connection_type, plan_id, network_id, ip_address, full_name, phone, username, password_enc, account_number, status)
     SELECT 'static', $1, $2, '172.20.0.0'::inet + off, 'Bench', '254700000000', 'b16-' || off, 'v1:x', 'b16-' || off, 'inactive'
       FROM (SELECT off FROM generate_series(2, 65534) off ORDER BY random() LIMIT 40000) o`,
    [plan.id, n16],
  );
  // the /8 is too big to shuffle: draw a few more than needed, then trim
  await fill(n8, '10.0.0.0', 16777216, 203000, 'b8-');
  const used = async (id: string) => Number((await c.services.db.rows<{ n: string }>('SELECT count(*) AS n FROM customers WHERE network_id = $1', [id]))[0]!.n);
  // trim to the exact figures
  for (const [id, want] of [
    [n16, 40000],
    [n8, 200000],
  ] as const) {
    const extra = (await used(id)) - want;
    if (extra > 0)
      await c.services.db.exec('DELETE FROM customers WHERE id IN (SELECT id FROM customers WHERE network_id = $1 ORDER BY random() LIMIT $2)', [id, extra]);
  }
  await c.services.db.exec('ANALYZE customers');
  for (const [label, id, prefixes, target] of [
    ['available-IP prefix search, /16 with 40 000 used, median', n16, (r: () => number) => `172.20.${Math.floor(r() * 256)}`, 5],
    [
      'same on a /8 with 200 000 used, median',
      n8,
      (r: () => number) => (r() < 0.5 ? `10.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}` : `10.${Math.floor(r() * 256)}`),
      10,
    ],
  ] as const) {
    const u = await used(id);
    const paths = Array.from({ length: 330 }, () => `/api/v1/networks/${id}/available-ips?prefix=${prefixes(Math.random)}&limit=50`);
    const { times, results } = await httpClient({ base: c.url, cookie: api.cookie, paths, warmup: 30 });
    const median = quantile(times, 0.5);
    figures.push({
      figure: label,
      value: ms(median),
      target: `≤ ${target} ms`,
      pass: median <= target,
      detail: { used: u, p99: ms(quantile(times, 0.99)), queries: times.length, meanResults: Math.round(results / times.length) },
    });
  }
}

/** Figures 3 and 4: add → applied on the emulator, one at a time and with 16 concurrent clients. */
async function benchAdds(c: Controller, api: Api): Promise<void> {
  log('adds: one site, one agent, one emulated router');
  const site = await api.ok('POST', '/sites', { name: 'Adds bench' });
  const router = await api.ok('POST', '/routers', { name: 'adds-router', siteId: site.id });
  const pool = await api.ok<{ id: string; networks: Body[] }>('POST', '/pools', {
    name: 'adds pool',
    routerId: router.id,
    networks: ['100.64.0.0/12'],
    gateway: '100.64.0.1',
  });
  const plan = await api.ok('POST', '/plans', pppoePlanBody('Adds bench plan', pool.id));
  const networkId = pool.networks[0]!.id as string;
  const stateDir = await enrolledAgent(api, c.url, site.id as string);
  const child = await startSite({ latencyMs: 0, agents: [{ stateDir, routerName: 'adds-router' }], agentsPerRouter: 1 });
  // times are epoch milliseconds taken where things happen: the client process, the site process
  const { landed, landing: landedPromise } = watchSecrets(child);
  const body = pppoeCustomers(plan.id, networkId);
  const client = await postClient();
  const postOne = (name: string) => client.ask<{ sentAt: number }>({ t: 'post', base: c.url, cookie: api.cookie, path: '/api/v1/customers', body: body(name) });
  await new Promise((r) => setTimeout(r, 500)); // the plan's profile lands first
  for (let i = 0; i < 20; i++) {
    const wait = landedPromise(`warm${i}`);
    await postOne(`warm${i}`);
    await wait;
  }
  const lat: number[] = [];
  for (let i = 0; i < 300; i++) {
    const name = `lat${i}`;
    const wait = landedPromise(name);
    const { sentAt } = await postOne(name);
    await wait;
    lat.push(landed.get(name)! - sentAt);
  }
  const p50 = quantile(lat, 0.5);
  const p99 = quantile(lat, 0.99);
  figures.push({
    figure: 'add customer → applied on the emulator, p50 / p99',
    value: `${ms(p50)} / ${ms(p99)}`,
    target: '≤ 30 ms / ≤ 100 ms',
    pass: p50 <= 30 && p99 <= 100,
    detail: { adds: lat.length, measuredFrom: 'the POST leaving a client process', measuredTo: 'the secret appearing in the emulator process' },
  });

  const total = 3200;
  const names = Array.from({ length: total }, (_, i) => `load${i}`);
  const done = Promise.all(names.map(landedPromise));
  const load = await client.ask<{ startedAt: number; acceptedAt: number }>({
    t: 'load',
    base: c.url,
    cookie: api.cookie,
    path: '/api/v1/customers',
    bodies: names.map(body),
    concurrency: 16,
  });
  await done;
  const elapsed = Math.max(...names.map((n) => landed.get(n)!)) - load.startedAt;
  const rate = (total / elapsed) * 1000;
  figures.push({
    figure: 'sustained adds end-to-end, 16 concurrent clients',
    value: `${rate.toFixed(0)} customers/s`,
    target: '≥ 200 customers/s',
    pass: rate >= 200,
    detail: { customers: total, seconds: +(elapsed / 1000).toFixed(2), apiAcceptedPerSecond: Math.round((total / (load.acceptedAt - load.startedAt)) * 1000) },
  });
  client.stop();
  await stopSite(child);
}

/** Figure 7: one plan change fanned out to 200 agents, all acknowledged. */
async function benchFanout(c: Controller, api: Api): Promise<void> {
  const count = 200;
  log(`fan-out: enrolling ${count} agents`);
  const agents: { stateDir: string; routerName: string }[] = [];
  const routerIds: string[] = [];
  for (let i = 0; i < count; i++) {
    const site = await api.ok('POST', '/sites', { name: `Fan-out site ${i}` });
    const router = await api.ok('POST', '/routers', { name: `fan-${i}`, siteId: site.id });
    routerIds.push(router.id as string);
    agents.push({ stateDir: await enrolledAgent(api, c.url, site.id as string), routerName: `fan-${i}` });
  }
  const plan = await api.ok('POST', '/plans', {
    name: 'Fan-out plan',
    connectionType: 'hotspot',
    price: '50',
    downloadSpeed: '5M',
    uploadSpeed: '2M',
    validity: { count: 1, unit: 'days' },
    routerIds,
  });
  const child = await startSite({ latencyMs: 0, agents, agentsPerRouter: 20 });
  const waitSettled = async (since: string) => {
    for (;;) {
      const rows = await c.services.db.rows<{ n: string }>(`SELECT count(*) AS n FROM provisioning_jobs WHERE id > $1 AND status IN ('applied', 'failed')`, [
        since,
      ]);
      if (Number(rows[0]!.n) >= count) return;
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  await waitSettled('0'); // the plan's creation already fanned out once
  const maxId = (await c.services.db.rows<{ m: string }>('SELECT COALESCE(max(id), 0) AS m FROM provisioning_jobs'))[0]!.m;
  const t0 = performance.now();
  await api.ok('PATCH', `/plans/${plan.id}`, { downloadSpeed: '8M' });
  await waitSettled(String(maxId));
  const elapsed = performance.now() - t0;
  const applied = Number(
    (await c.services.db.rows<{ n: string }>(`SELECT count(*) AS n FROM provisioning_jobs WHERE id > $1 AND status = 'applied'`, [maxId]))[0]!.n,
  );
  figures.push({
    figure: 'one plan change fanned out to 200 agents, all acknowledged',
    value: `${(elapsed / 1000).toFixed(2)} s`,
    target: '≤ 2 s',
    pass: elapsed <= 2000 && applied === count,
    detail: { agents: count, applied },
  });
  await stopSite(child);
}

/** Expiry sweep: 100 000 active customers, 1 % due (half of those renew from the balance, half expire). */
async function benchExpiry(c: Controller, api: Api): Promise<void> {
  const total = 100_000;
  log(`expiry: ${total} customers, 1 % due`);
  await c.services.expiry.stop(); // the timer must not sweep before the measured sweep
  const site = await api.ok('POST', '/sites', { name: 'Expiry bench' });
  const router = await api.ok('POST', '/routers', { name: 'expiry-router', siteId: site.id });
  const plan = await api.ok('POST', '/plans', {
    name: 'Expiry bench plan',
    connectionType: 'hotspot',
    price: '50',
    downloadSpeed: '5M',
    uploadSpeed: '2M',
    validity: { count: 30, unit: 'days' },
    routerIds: [router.id],
    sharedUsers: 1,
  });
  // one statement: every 100th customer is past expiry, every 200th of all has the price on account;
  // the rest expire 4 to 34 days out (outside the reminder windows: their reminders are another figure)
  await c.services.db.exec(
    `INSERT INTO customers (connection_type, plan_id, full_name, phone, username, password_enc, account_number, status, expires_at, activated_at, balance_minor)
     SELECT 'hotspot', $1, 'Expiry Bench ' || i, '2547' || lpad((10000000 + i)::text, 8, '0'), 'exp-' || i, 'v1:x', 'EXP' || i, 'active',
            CASE WHEN i % 100 = 0 THEN now() - interval '5 seconds' ELSE now() + interval '4 days' + random() * interval '30 days' END,
            now() - interval '30 days', CASE WHEN i % 200 = 0 THEN 5000 ELSE 0 END
       FROM generate_series(1, $2::int) AS i`,
    [plan.id, total],
  );
  await c.services.db.exec('ANALYZE customers');
  if (process.env.BENCH_EXPLAIN) {
    // the plans of the due-customer scans, for whoever tunes them
    for (const sql of [
      `EXPLAIN ANALYZE SELECT c.id FROM customers c JOIN plans t ON t.id = COALESCE(c.next_plan_id, c.plan_id) WHERE c.status = 'active' AND c.expires_at <= now() AND t.price_minor > 0 AND c.balance_minor >= t.price_minor ORDER BY c.expires_at LIMIT 20000 FOR UPDATE OF c SKIP LOCKED`,
      `EXPLAIN ANALYZE SELECT c.id FROM customers c WHERE c.status = 'active' AND c.expires_at <= now() ORDER BY c.expires_at LIMIT 20000 FOR UPDATE SKIP LOCKED`,
    ])
      log((await c.services.db.rows<Record<string, string>>(sql)).map((r) => Object.values(r)[0]).join('\n'));
    const { ExpiryRepository } = await import('../controller/src/repositories/expiry.repository.ts');
    const db = c.services.db;
    const explaining = {
      rows: async (sql: string, bind: unknown[], tx: unknown) => {
        log((await db.rows<Record<string, string>>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, bind, tx as never)).map((r) => Object.values(r)[0]).join('\n'));
        return [];
      },
      exec: db.exec.bind(db),
    };
    const repo = new ExpiryRepository(explaining as never);
    await db
      .transaction(async (tx) => {
        await repo.autoRenew(20000, 400, new Date(Date.now() + 3600_000), tx);
        await repo.expireDue(0, 20000, new Date(Date.now() + 3600_000), tx);
        throw new Error('rollback');
      })
      .catch(() => undefined);
  }
  const t0 = performance.now();
  const r = await c.services.expiry.sweep();
  const elapsed = performance.now() - t0;
  const ok = r.renewed + r.expired === total / 100;
  figures.push({
    figure: 'expiry sweep, 100 000 customers with 1 % due',
    value: ms(elapsed),
    target: '≤ 2 s',
    pass: elapsed <= 2000 && ok,
    detail: { customers: total, ...r },
  });
}

/** M-Pesa: C2B confirmations per second with 20 % repeats (exactly one payment each), and confirmation → router applied. */
async function benchMpesa(c: Controller, api: Api): Promise<void> {
  log('M-Pesa: one site, one agent, one emulated router, customers to pay');
  const site = await api.ok('POST', '/sites', { name: 'M-Pesa bench' });
  const router = await api.ok('POST', '/routers', { name: 'mpesa-router', siteId: site.id });
  const pool = await api.ok<{ id: string; networks: Body[] }>('POST', '/pools', {
    name: 'mpesa pool',
    routerId: router.id,
    networks: ['100.96.0.0/16'],
    gateway: '100.96.0.1',
  });
  const plan = await api.ok('POST', '/plans', {
    name: 'M-Pesa bench plan',
    connectionType: 'pppoe',
    price: '1500',
    downloadSpeed: '10M',
    uploadSpeed: '5M',
    validity: { count: 30, unit: 'days' },
    poolIds: [pool.id],
  });
  const settings = await api.ok<{ callbackUrls: { confirmation: string } }>('PATCH', '/settings/mpesa', { shortcode: '600984', shortcodeType: 'paybill' });
  const path = new URL(settings.callbackUrls.confirmation).pathname;
  const stateDir = await enrolledAgent(api, c.url, site.id as string);
  const dbPids = await databasePids(c); // before the site and the client are forked (embedded: the only child)
  const child = await startSite({ latencyMs: 0, agents: [{ stateDir, routerName: 'mpesa-router' }], agentsPerRouter: 1 });
  const customers = 1000;
  const client = await postClient();
  const accounts = Array.from({ length: customers }, (_, i) => `MP${String(i).padStart(5, '0')}`);
  const customerBody = (i: number) => ({
    connectionType: 'pppoe',
    planId: plan.id,
    networkId: pool.networks[0]!.id,
    ipAddress: `100.96.${4 + (i >> 8)}.${i & 255}`,
    fullName: 'M-Pesa Bench',
    phone: '0712345678',
    username: `mp${i}`,
    additionalAccountNumber: accounts[i],
    payment: { method: 'cash' },
    autoActivate: true,
  });
  await client.ask({ t: 'load', base: c.url, cookie: api.cookie, path: '/api/v1/customers', bodies: accounts.map((_, i) => customerBody(i)), concurrency: 8 });
  // every secret on the router first, so the figure is the payments' own work
  for (;;) {
    const rows = await c.services.db.rows<{ n: string }>(`SELECT count(*) AS n FROM provisioning_jobs WHERE status NOT IN ('applied', 'failed')`);
    if (Number(rows[0]!.n) === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  let n = 0;
  const confirmation = (account: string, transId = `BN${String(++n).padStart(8, '0')}`) => ({
    TransactionType: 'Pay Bill',
    TransID: transId,
    TransTime: '20261201103000',
    TransAmount: '1500.00',
    BusinessShortCode: '600984',
    BillRefNumber: account,
    InvoiceNumber: '',
    OrgAccountBalance: '1000.00',
    ThirdPartyTransID: '',
    MSISDN: '2547*****149',
    FirstName: 'Bench',
    MiddleName: '',
    LastName: '',
  });
  // 2 000 confirmations: 1 600 distinct, 400 repeats of earlier ones (Daraja's retries)
  const unique = Array.from({ length: 1600 }, (_, i) => confirmation(accounts[i % customers]!));
  const bodies: Body[] = [];
  for (const [i, u] of unique.entries()) {
    bodies.push(u);
    if (i % 4 === 3) bodies.push(unique[Math.floor(Math.random() * (i + 1))]!);
  }
  const statementsBefore = sql.count;
  sql.byText.clear();
  const cpuBefore = process.cpuUsage();
  const dbCpuBefore = dbPids.map(processCpuMs);
  const stopProfile = await profileStretch('mpesa');
  const load = await client.ask<{ startedAt: number; acceptedAt: number }>({ t: 'load', base: c.url, cookie: '', path, bodies, concurrency: 16 });
  const profiled = await stopProfile();
  if (profiled) log(`CPU profile of the confirmations: ${profiled}`);
  const rate = (bodies.length / (load.acceptedAt - load.startedAt)) * 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const controllerMs = (cpu.user + cpu.system) / 1000 / bodies.length;
  const databaseMs = dbPids.reduce((sum, pid, i) => sum + processCpuMs(pid) - dbCpuBefore[i]!, 0) / bodies.length;
  const perConfirmation = (sql.count - statementsBefore) / bodies.length;
  if (process.env.BENCH_COUNT_TEXT) for (const [text, k] of sql.top(40)) log(`${String(k).padStart(6)}  ${text}`);
  const counts = (
    await c.services.db.rows<{ stored: string; payments: string; distinct_refs: string }>(
      `SELECT (SELECT count(*) FROM mpesa_transactions WHERE trans_id LIKE 'BN%') AS stored,
            (SELECT count(*) FROM mpesa_transactions WHERE trans_id LIKE 'BN%' AND status = 'matched' AND payment_id IS NOT NULL) AS payments,
            (SELECT count(DISTINCT trans_id) FROM mpesa_transactions WHERE trans_id LIKE 'BN%') AS distinct_refs`,
    )
  )[0]!;
  const exact = Number(counts.stored) === unique.length && Number(counts.payments) === unique.length && Number(counts.distinct_refs) === unique.length;
  // SPEC §9: the embedded database may miss a throughput target by up to 2.5×
  const target = process.env.DATABASE_URL ? 300 : 120;
  figures.push({
    figure: 'M-Pesa C2B confirmations/s, 20 % duplicates, one payment each',
    value: `${rate.toFixed(0)} /s`,
    target: `≥ ${target}/s`,
    pass: rate >= target && exact,
    detail: { requests: bodies.length, distinct: unique.length, stored: Number(counts.stored), payments: Number(counts.payments), concurrency: 16 },
  });
  // statements and CPU per confirmation (repeats included) over the same load; the controller's CPU includes the
  // dispatcher sending the renewals to the agent, the database's is its backends (PostgreSQL) or its process (embedded)
  figures.push({
    figure: 'M-Pesa C2B: SQL statements / controller + database CPU per confirmation',
    value: `${perConfirmation.toFixed(1)} / ${(controllerMs + databaseMs).toFixed(2)} ms`,
    target: 'reference',
    pass: null,
    detail: { statements: +perConfirmation.toFixed(2), controllerCpuMs: +controllerMs.toFixed(3), databaseCpuMs: +databaseMs.toFixed(3) },
  });

  // latency: a confirmation for an expired customer until its secret is enabled on the router
  await new Promise((r) => setTimeout(r, 1000));
  const seen = new Map<string, { at: number; disabled: string | undefined }>();
  const waiting = new Map<string, { disabled: string; resolve: () => void }>();
  onSiteChange(child, (m) => {
    if (m.path !== '/ppp/secret') return;
    seen.set(m.name, { at: m.at, disabled: m.disabled });
    const w = waiting.get(m.name);
    if (w && w.disabled === m.disabled) w.resolve();
  });
  const secretBecomes = (name: string, disabled: 'true' | 'false') => new Promise<void>((resolve) => waiting.set(name, { disabled, resolve }));
  const lat: number[] = [];
  for (let i = 0; i < 50; i++) {
    const name = `mp${i}`;
    const id = (await c.services.db.rows<{ id: string }>(`SELECT id FROM customers WHERE username = $1`, [name]))[0]!.id;
    const blocked = secretBecomes(name, 'true');
    await c.services.db.exec(`UPDATE customers SET expires_at = now() - interval '1 minute', status = 'active' WHERE id = $1`, [id]);
    await c.services.expiry.sweep();
    await blocked;
    const back = secretBecomes(name, 'false');
    const { sentAt } = await client.ask<{ sentAt: number }>({ t: 'post', base: c.url, cookie: '', path, body: confirmation(accounts[i]!) });
    await back;
    lat.push(seen.get(name)!.at - sentAt);
  }
  const p50 = quantile(lat, 0.5);
  figures.push({
    figure: 'M-Pesa confirmation → applied on the router, p50',
    value: ms(p50),
    target: '≤ 1 s',
    pass: p50 <= 1000,
    detail: { payments: lat.length, p99: +quantile(lat, 0.99).toFixed(2), measuredTo: 'the expired secret changed on the emulator' },
  });
  client.stop();
  await stopSite(child);
}

async function main(): Promise<void> {
  const databaseUrl = await benchDatabase('');
  log(databaseUrl ? `database: PostgreSQL (${new URL(databaseUrl).pathname.slice(1)})` : 'database: embedded PGlite (set DATABASE_URL for a real PostgreSQL)');
  const only = process.argv.slice(2);
  const want = (k: string) => only.length === 0 || only.includes(k);
  const c = await startBenchController(databaseUrl, '', { MTANDAO_RECONCILE_ON_CONNECT: '0' });
  const api = new Api(c.url);
  await api.ok('POST', '/auth/login', { username: 'admin', password: 'bench-admin-password' });
  try {
    if (want('ipam')) await benchIpSearch(c, api);
    if (want('adds')) await benchAdds(c, api);
    if (want('hotpath')) figures.push(...(await inOwnProcess<Figure[]>('bench-hotpath.ts')));
    if (want('reconcile')) figures.push(...(await inOwnProcess<Figure[]>('bench-reconcile.ts')));
    if (want('import')) figures.push(...(await inOwnProcess<Figure[]>('bench-import.ts')));
    if (want('fanout')) await benchFanout(c, api);
    if (want('overview')) figures.push(...(await inOwnProcess<Figure[]>('bench-overview.ts')));
    if (want('expiry')) await benchExpiry(c, api);
    if (want('mpesa')) await benchMpesa(c, api);
    if (want('hotspot')) figures.push(...(await inOwnProcess<Figure[]>('bench-hotspot.ts')));
  } finally {
    await c.stop();
  }
  const cores = cpus().length;
  const width = Math.max(...figures.map((f) => f.figure.length));
  const vw = Math.max(8, ...figures.map((f) => f.value.length));
  const tw = Math.max(6, ...figures.map((f) => f.target.length));
  const lines = [
    `Mtandao benchmarks — ${cores} cores, Node ${process.version}, ${databaseUrl ? 'PostgreSQL' : 'embedded PGlite'}`,
    '',
    `${'figure'.padEnd(width)}  ${'measured'.padEnd(vw)}  ${'target'.padEnd(tw)}  result`,
    `${'-'.repeat(width)}  ${'-'.repeat(vw)}  ${'-'.repeat(tw)}  ------`,
    ...figures.map((f) => `${f.figure.padEnd(width)}  ${f.value.padEnd(vw)}  ${f.target.padEnd(tw)}  ${f.pass === null ? 'n/a' : f.pass ? 'PASS' : 'MISS'}`),
  ];
  const json = { cores, node: process.version, database: databaseUrl ? 'postgresql' : 'pglite', at: new Date().toISOString(), figures };
  process.stdout.write(`${lines.join('\n')}\n\n${JSON.stringify(json, null, 2)}\n`);
  writeFileSync('bench-results.json', `${JSON.stringify(json, null, 2)}\n`);
  await dropBenchDatabase(databaseUrl);
  process.exit(0);
}

await main();
