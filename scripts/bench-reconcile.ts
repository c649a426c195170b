// Figure 5: reconcile 10 000 PPPoE customers with 10 % drift on an emulator at 20 ms round trip,
// against connect-login-per-command (how a tool that dials the router per action works) and
// against the emulator's own floor (every read, then every write, all on the wire at once).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CustomerSpec, PlanSpec } from '@mtandao/protocol';
import { RouterOsApiClient, type RouterConfig } from '@mtandao/agent/drivers';
import { managedProps, reconcileRouter } from '@mtandao/agent/reconcile';

export const BENCH_N = 10_000;
const RTT_MS = 20;
export const benchPlan: PlanSpec = {
  planId: '1',
  name: 'Home 10M',
  connectionType: 'pppoe',
  uploadSpeed: '5M',
  downloadSpeed: '10M',
  localAddress: '10.64.0.1',
};
export const benchCustomers: CustomerSpec[] = Array.from({ length: BENCH_N }, (_, i) => ({
  customerId: String(i + 1),
  connectionType: 'pppoe',
  username: `cust${i + 1}`,
  password: `pw-${i + 1}`,
  status: 'active',
  ipAddress: `10.64.${Math.floor(i / 250)}.${(i % 250) + 2}`,
  plan: benchPlan,
}));

interface DriftedRouter {
  child: ChildProcess;
  config: RouterConfig;
  drift: { deleted: number[]; changed: number[]; extra: string[] };
}

async function driftedRouter(): Promise<DriftedRouter> {
  const child = spawn(
    process.execPath,
    ['--conditions=mtandao-source', '--import', 'tsx', path.join(path.dirname(fileURLToPath(import.meta.url)), 'bench-router.ts')],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_RTT_MS: String(RTT_MS) } },
  );
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(buf.split('\n')[0]!);
    });
    child.once('exit', (code) => reject(new Error(`bench router exited ${code}`)));
  });
  const { apiPort, drift } = JSON.parse(line) as { apiPort: number; drift: DriftedRouter['drift'] };
  return {
    child,
    drift,
    config: { name: 'bench', host: '127.0.0.1', port: apiPort, transport: 'api', username: 'bench', password: 'bench', timeoutMs: 60_000 },
  };
}

async function stopRouter(r: DriftedRouter): Promise<void> {
  r.child.removeAllListeners('exit');
  r.child.kill('SIGTERM');
  await new Promise((resolve) => r.child.once('exit', resolve));
}

const secretProps = (c: CustomerSpec) => ({
  name: c.username,
  password: c.password,
  service: 'pppoe',
  profile: benchPlan.name,
  'remote-address': c.ipAddress!,
  comment: `mtandao:${c.customerId}`,
});

/** One reconcile by the agent's code, through its API driver as configured by default. */
async function runOurs(): Promise<{ ms: number; summary: unknown; correct: boolean }> {
  const r = await driftedRouter();
  const client = new RouterOsApiClient(r.config);
  await client.print('/system/identity'); // log in first: both sides start on an open session
  const t = performance.now();
  const result = await reconcileRouter(client, { plans: [benchPlan], customers: benchCustomers });
  const ms = performance.now() - t;
  const after = await client.print('/ppp/secret', { proplist: ['name', 'password', 'comment'] });
  const correct = after.length === BENCH_N && after.every((s) => s.password === `pw-${s.comment!.slice(8)}`);
  await client.close();
  await stopRouter(r);
  return { ms, summary: result.summary, correct };
}

/**
 * The floor: the same reads (every property reconcile compares) and the same writes, each phase
 * all on the wire at once, with no work between them.
 */
async function runFloor(): Promise<number> {
  const r = await driftedRouter();
  const client = new RouterOsApiClient(r.config, { maxInFlight: 1_000_000 });
  await client.print('/system/identity');
  const t = performance.now();
  const [secrets] = await Promise.all([
    client.print('/ppp/secret', { proplist: managedProps('/ppp/secret') }),
    client.print('/ppp/profile', { proplist: managedProps('/ppp/profile') }),
  ]);
  const byName = new Map(secrets.map((s) => [s.name, s['.id']!]));
  await Promise.all([
    ...r.drift.deleted.map((i) => client.add('/ppp/secret', secretProps(benchCustomers[i]!))),
    ...r.drift.changed.map((i) => client.set('/ppp/secret', byName.get(benchCustomers[i]!.username)!, { password: benchCustomers[i]!.password })),
    ...r.drift.extra.map((name) => client.remove('/ppp/secret', byName.get(name)!)),
  ]);
  const ms = performance.now() - t;
  await client.close();
  await stopRouter(r);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchReconcile(log: (m: string) => void) {
  log(`reconcile: ${BENCH_N} PPPoE customers, 10 % drift, emulator at ${RTT_MS} ms (in its own process), 3 runs each`);
  const runs = [];
  const floors = [];
  for (let i = 0; i < 3; i++) {
    runs.push(await runOurs());
    floors.push(await runFloor());
  }
  const ours = median(runs.map((r) => r.ms));
  const floor = median(floors);
  const result = runs[0]!;
  const correct = runs.every((r) => r.correct);

  const r = await driftedRouter();
  // connect-login-per-command, measured on a sample and scaled to the commands such a tool needs
  const sample = 200;
  const t = performance.now();
  for (let i = 0; i < sample; i++) {
    const one = new RouterOsApiClient(r.config, { maxInFlight: 1 });
    await one.print('/ppp/secret', { where: { name: benchCustomers[i]!.username } });
    await one.close();
  }
  const perCommand = (performance.now() - t) / sample;
  await stopRouter(r);
  const commands = BENCH_N + r.drift.deleted.length + r.drift.changed.length + r.drift.extra.length;
  const baseline = perCommand * commands;

  const speedup = baseline / ours;
  const vsFloor = ours / floor;
  return [
    {
      figure: 'reconcile 10 000 PPPoE customers, 10 % drift, 20 ms RTT',
      value: `${(ours / 1000).toFixed(2)} s (${speedup.toFixed(0)}× baseline, ${vsFloor.toFixed(2)}× floor)`,
      target: '≥ 20× faster, ≤ 1.5× floor',
      pass: correct && speedup >= 20 && vsFloor <= 1.5,
      detail: {
        oursSeconds: +(ours / 1000).toFixed(3),
        floorSeconds: +(floor / 1000).toFixed(3),
        baselineSeconds: +(baseline / 1000).toFixed(1),
        baselineMethod: `connect + login + one command, ${perCommand.toFixed(1)} ms each (measured on ${sample}), × ${commands} commands (a check per customer, a write per drifted entry)`,
        runs: runs.map((x) => +(x.ms / 1000).toFixed(3)),
        floors: floors.map((x) => +(x / 1000).toFixed(3)),
        summary: result.summary,
        routerCorrectAfterwards: correct,
      },
    },
  ];
}

// run as its own process by bench.ts: print the figures as the last line
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const figures = await benchReconcile((m) => process.stderr.write(`[bench] ${m}\n`));
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  process.exit(0);
}
