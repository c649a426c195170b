// A bench "site" in its own process: an emulated router (or several) and enrolled agents, reporting
// every secret and profile change to the parent over IPC with its time of arrival.
import { startAgent, type AgentHandle } from '@mtandao/agent';
import { RouterOsApiClient } from '@mtandao/agent/drivers';
import { RouterOsSim } from '@mtandao/routeros-sim';
import { profileStretch } from './lib/cpu-profile.ts';
import type { SiteChange } from './lib/bench-landing.ts';

interface SiteSpec {
  latencyMs: number;
  agents: { stateDir: string; routerName: string }[];
  /** Agents sharing one emulator (one emulator per this many agents). */
  agentsPerRouter: number;
}

const spec = JSON.parse(process.env.BENCH_SITE ?? '{}') as SiteSpec;

// changes go to the parent once per turn of the event loop, each with the time it happened: one
// IPC message per change cost this process more than the agent's own work per customer
let pending: SiteChange[] = [];
function report(change: SiteChange): void {
  if (pending.length === 0)
    setImmediate(() => {
      process.send?.({ t: 'changes', changes: pending });
      pending = [];
    });
  pending.push(change);
}
const sims: RouterOsSim[] = [];
const agents: AgentHandle[] = [];

for (let i = 0; i < spec.agents.length; i += spec.agentsPerRouter) {
  const sim = new RouterOsSim({ username: 'bench', password: 'bench', sshPort: null, latencyMs: spec.latencyMs });
  const { apiPort } = await sim.start();
  sim.store.on('change', (c: { path: string; row: Record<string, string>; dead: boolean }) => {
    if (c.dead) return;
    if (c.path === '/ppp/secret' || c.path === '/ppp/profile' || c.path === '/ip/hotspot/user/profile')
      report({
        path: c.path,
        name: c.row.name!,
        comment: c.row.comment,
        rate: c.row['rate-limit'],
        disabled: c.row.disabled,
        at: performance.timeOrigin + performance.now(),
      });
  });
  sims.push(sim);
  const group = spec.agents.slice(i, i + spec.agentsPerRouter);
  const started = await Promise.all(
    group.map((a) =>
      startAgent({
        stateDir: a.stateDir,
        config: {
          routers: [{ name: a.routerName, host: '127.0.0.1', port: apiPort, transport: 'api', username: 'bench', password: 'bench' }],
          logLevel: 'silent',
          healthIntervalSeconds: 300,
        },
      }),
    ),
  );
  agents.push(...started);
}
await Promise.all(agents.map((a) => a.whenConnected()));
process.send?.({ t: 'ready' });
/** The router's own floor: `n` adds pipelined on one fresh API connection, timed to the last reply. */
async function floor(n: number): Promise<number> {
  const sim = sims[0]!;
  const client = new RouterOsApiClient({ name: 'floor', host: '127.0.0.1', port: sim.ports!.apiPort, transport: 'api', username: 'bench', password: 'bench' });
  await client.print('/system/identity');
  const tag = `floor${Date.now()}-`;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: n }, (_, i) => client.add('/ppp/secret', { name: `${tag}${i}`, password: 'x', service: 'pppoe', comment: 'bench floor' })),
  );
  const elapsed = performance.now() - t0;
  await client.close();
  const ids = sim.store
    .list('/ppp/secret')
    .filter((r) => r.comment === 'bench floor')
    .map((r) => r['.id']!);
  sim.store.remove('/ppp/secret', ids);
  return elapsed;
}

let stopProfile: (() => Promise<string | undefined>) | undefined;
process.on('message', async (m: { t: string; ms?: number; n?: number; start?: boolean }) => {
  if (m.t === 'profile') {
    // BENCH_CPU_PROF=dir: a profile of one stretch (e.g. a burst) of this process alone
    if (m.start) {
      stopProfile = await profileStretch('site');
      process.send?.({ t: 'profile' });
    } else process.send?.({ t: 'profile', file: await stopProfile?.() });
  } else if (m.t === 'latency') {
    for (const s of sims) s.setLatency(m.ms ?? 0);
    process.send?.({ t: 'latency' });
  } else if (m.t === 'floor') {
    process.send?.({ t: 'floor', ms: await floor(m.n ?? 500) });
  } else if (m.t === 'sim-stats') {
    process.send?.({ t: 'sim-stats', stats: sims[0]!.stats });
  } else if (m.t === 'stop') {
    await Promise.all(agents.map((a) => a.stop()));
    await Promise.all(sims.map((s) => s.stop()));
    process.exit(0);
  }
});
