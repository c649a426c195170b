// Figures: a 10 000-voucher batch generated and on the emulated router (POST → every hotspot user
// there), and the captive portal's page weight (everything a phone downloads to see the packages).
// Its own database and controller; the emulator and the agent run in this process. Prints its
// figures as JSON on the last line of stdout (bench.ts runs it in a process of its own).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { enrollAgent, startAgent } from '@mtandao/agent';
import { RouterOsSim } from '@mtandao/routeros-sim';
import { benchDatabase, dropBenchDatabase, startBenchController } from './lib/bench-controller.ts';

const VOUCHERS = 10_000;
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

const databaseUrl = await benchDatabase('hotspot');
const c = await startBenchController(databaseUrl, 'hotspot', { MTANDAO_RECONCILE_ON_CONNECT: '0' });
let cookie = '';
const call = async (method: string, p: string, body?: unknown): Promise<Record<string, unknown>> => {
  const res = await fetch(`${c.url}/api/v1${p}`, {
    method,
    headers: { 'content-type': 'application/json', cookie },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const set = res.headers.get('set-cookie');
  if (set) cookie = set.split(';')[0]!;
  const out = (await res.json()) as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(out)}`);
  return out;
};
const sim = new RouterOsSim({ username: 'bench', password: 'bench', sshPort: null, hotspotPort: 0 });
let agent: Awaited<ReturnType<typeof startAgent>> | undefined;
try {
  await call('POST', '/auth/login', { username: 'admin', password: 'bench-admin-password' });
  const site = await call('POST', '/sites', { name: 'Hotspot bench' });
  const router = await call('POST', '/routers', { name: 'hs-bench', siteId: site.id });
  const plan = await call('POST', '/plans', {
    name: 'Day pass',
    connectionType: 'hotspot',
    price: '50',
    downloadSpeed: '5M',
    uploadSpeed: '2M',
    validity: { count: 1, unit: 'days' },
    sharedUsers: 1,
    routerIds: [router.id],
  });
  const { apiPort, hotspotPort } = await sim.start();
  const stateDir = mkdtempSync(path.join(tmpdir(), 'mtandao-bench-hotspot-agent-'));
  const token = await call('POST', `/sites/${site.id}/enrollment-tokens`);
  await enrollAgent({ controllerUrl: c.url, token: token.token as string, stateDir });
  agent = await startAgent({
    stateDir,
    config: {
      routers: [{ name: 'hs-bench', host: '127.0.0.1', port: apiPort, transport: 'api', username: 'bench', password: 'bench' }],
      logLevel: 'silent',
      healthIntervalSeconds: 300,
    },
    timing: { hotspotIntervalMs: 0 },
  });
  await agent.whenConnected();

  let landed = 0;
  let lastAt = 0;
  const allThere = new Promise<void>((resolve) => {
    sim.store.on('change', (ch: { path: string; dead: boolean; row: Record<string, string> }) => {
      if (ch.dead || ch.path !== '/ip/hotspot/user' || !(ch.row.comment ?? '').startsWith('mtandao-voucher:')) return;
      landed++;
      lastAt = performance.now();
      if (landed === VOUCHERS) resolve();
    });
  });
  log(`making a ${VOUCHERS}-voucher batch`);
  const start = performance.now();
  await call('POST', '/vouchers/batches', { planId: plan.id, count: VOUCHERS });
  const stored = performance.now() - start;
  await Promise.race([allThere, new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${landed} vouchers on the router after 120 s`)), 120_000))]);
  const elapsed = lastAt - start;

  // the portal as a phone behind the hotspot opens it (no other resource is loaded: styles are inline)
  const portal = `${c.url}/portal/${site.id}?${new URLSearchParams({ mac: '02:00:00:00:00:09', ip: '10.5.50.9', 'link-login-only': `http://127.0.0.1:${hotspotPort}/login`, 'chap-id': '\\123', 'chap-challenge': '\\001\\002', dst: 'http://example.com/' })}`;
  const res = await fetch(portal, { headers: { 'accept-encoding': 'identity' } });
  const html = Buffer.from(await res.arrayBuffer());
  const headerBytes = [...res.headers].reduce((n, [k, v]) => n + k.length + v.length + 4, 17);
  const weight = html.length + headerBytes;
  writeFileSync(path.join(c.services.config.dataDir, 'portal.html'), html);
  const figures = [
    {
      figure: '10 000-voucher batch generated and on the router',
      value: `${(elapsed / 1000).toFixed(2)} s`,
      target: '≤ 15 s',
      pass: elapsed <= 15_000 && landed === VOUCHERS,
      detail: { vouchers: landed, storedAndQueuedMs: Math.round(stored), measuredTo: 'the last hotspot user added on the emulator' },
    },
    {
      figure: 'captive portal page weight, everything transferred',
      value: `${(weight / 1024).toFixed(1)} KB`,
      target: '≤ 30 KB',
      pass: weight <= 30 * 1024 && res.status === 200,
      detail: { htmlBytes: html.length, headerBytes, requests: 1, compression: 'none' },
    },
  ];
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} finally {
  await agent?.stop();
  await sim.stop();
  await c.stop();
  await dropBenchDatabase(databaseUrl);
}
process.exit(0);
