import type { Controller } from '../../controller/src/server.ts';
import { onSiteChange } from '../lib/bench-landing.ts';
import { profileStretch } from '../lib/cpu-profile.ts';
import { processCpuMs } from '../lib/proc-cpu.ts';
import { log, quantile, ms, sql, databasePids, Api, startSite, stopSite, postClient, enrolledAgent, figures, type Body } from '../lib/bench-kit.ts';

/** M-Pesa: C2B confirmations per second with 20 % repeats (exactly one payment each), and confirmation → router applied. */
export async function benchMpesa(c: Controller, api: Api): Promise<void> {
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
    // this router's jobs only: other figures leave jobs for routers without an agent pending
    const rows = await c.services.db.rows<{ n: string }>(
      `SELECT count(*) AS n FROM provisioning_jobs WHERE router_id = $1 AND status NOT IN ('applied', 'failed')`,
      [router.id],
    );
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
