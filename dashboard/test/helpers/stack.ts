import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { enrollAgent, startAgent, type AgentHandle } from '@mtandao/agent';
import { RouterOsSim } from '@mtandao/routeros-sim';
import type { NetworkView, PlanView, PoolView, RouterView, SiteView } from '@mtandao/protocol/api';
import { ApiClient, expectStatus } from '../../../controller/test/helpers/client.ts';
import { ADMIN_PASSWORD, startTestController } from '../../../controller/test/helpers/controller.ts';
import { DarajaFake } from '../../../controller/src/mpesa/fake/daraja-fake.ts';

export const dashboardDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ROUTER_USER = 'mtandao';
const ROUTER_PASSWORD = 'router-pw-42';

/** Staff accounts of the test world, one per role. */
export const USERS = {
  admin: { username: 'admin', password: ADMIN_PASSWORD },
  staff: { username: 'wanjiru.cashier', password: 'staff-password-1' },
  noc: { username: 'otieno.noc', password: 'noc-password-12' },
} as const;
export type Role = keyof typeof USERS;

/** A site with one router, a /16 PPPoE pool, a /28 Static pool, a PPPoE and a Static plan (Hotspot: see world.ts). */
export interface World {
  site: SiteView;
  router: RouterView;
  pppoePool: PoolView;
  staticPool: PoolView;
  pppoeNetwork: NetworkView;
  staticNetwork: NetworkView;
  plans: { pppoe: PlanView; static: PlanView };
}

/** Everything behind the dashboard: controller, emulated router, enrolled agent, and the dashboard's production server. */
export interface Stack {
  api: ApiClient;
  world: World;
  sim: RouterOsSim;
  agent: AgentHandle;
  /** The controller (tests reach into its database to make time pass). */
  controller: Awaited<ReturnType<typeof startTestController>>;
  /** The Daraja fake the controller's M-Pesa talks to. */
  daraja: DarajaFake;
  /** The dashboard, e.g. http://127.0.0.1:41234. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

async function seed(api: ApiClient): Promise<World> {
  const post = async <T>(p: string, body: unknown = {}) => expectStatus(await api.post<T>(p, body), 201);
  const site = await post<SiteView>('/sites', { name: 'Kasarani POP' });
  const router = await post<RouterView>('/routers', { name: 'kasarani-core', siteId: site.id, host: '10.0.0.1' });
  const pppoePool = await post<PoolView>('/pools', { name: 'PPPoE residential', routerId: router.id, networks: ['10.64.0.0/16'], gateway: '10.64.0.1' });
  const staticPool = await post<PoolView>('/pools', { name: 'Static business', routerId: router.id, networks: ['172.16.10.0/28'], gateway: '172.16.10.1' });
  const plan = (body: Record<string, unknown>) => post<PlanView>('/plans', { uploadSpeed: '5M', validity: { count: 30, unit: 'days' }, ...body });
  const plans = {
    pppoe: await plan({ name: 'Home 10 Mbps', connectionType: 'pppoe', price: '1500.00', downloadSpeed: '10M', poolIds: [pppoePool.id] }),
    static: await plan({
      name: 'Business 20 Mbps',
      connectionType: 'static',
      price: '5000',
      downloadSpeed: '20M',
      uploadSpeed: '10M',
      poolIds: [staticPool.id],
    }),
  };
  for (const role of ['staff', 'noc'] as const) await post('/users', { ...USERS[role], role, fullName: role === 'staff' ? 'Wanjiru Kamau' : 'Otieno Ouma' });
  return { site, router, pppoePool, staticPool, pppoeNetwork: pppoePool.networks[0]!, staticNetwork: staticPool.networks[0]!, plans };
}

const withoutProxySettings = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => {
  const { ORIGIN: _origin, PROTOCOL_HEADER: _protocol, HOST_HEADER: _host, ...rest } = env;
  return rest;
};

async function startDashboard(controllerUrl: string): Promise<{ child: ChildProcess; port: number; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(dashboardDir, 'build/index.js')], {
    // what scripts/start.mjs gives it; ORIGIN and PROTOCOL_HEADER unset, as on a staff member's LAN
    env: { ...withoutProxySettings(process.env), PORT: String(port), HOST: '127.0.0.1', MTANDAO_CONTROLLER_URL: controllerUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => {
    output += d;
    if (process.env.TEST_LOG_LEVEL) process.stderr.write(d);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the dashboard exited (${child.exitCode}):\n${output}`);
    const ok = await fetch(`${url}/login`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { child, port, url };
    if (Date.now() > deadline) throw new Error(`the dashboard did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts the whole stack on a fresh database and seeds the world through the API. */
export async function startStack(): Promise<Stack> {
  const daraja = new DarajaFake({ stkDelayMs: 1500 });
  await daraja.start();
  const controller = await startTestController({ MTANDAO_HEARTBEAT_SECONDS: '2', MTANDAO_DARAJA_URL: daraja.url });
  const stops: (() => Promise<unknown>)[] = [() => daraja.stop(), () => controller.stop()];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const api = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
    const world = await seed(api);
    const sim = new RouterOsSim({ username: ROUTER_USER, password: ROUTER_PASSWORD, sshPort: null, identity: world.router.name });
    const { apiPort } = await sim.start();
    stops.push(() => sim.stop());
    const stateDir = mkdtempSync(path.join(tmpdir(), 'mtandao-dashboard-agent-'));
    const { token } = expectStatus(await api.post<{ token: string }>(`/sites/${world.site.id}/enrollment-tokens`), 201);
    await enrollAgent({ controllerUrl: controller.url, token, stateDir });
    const agent = await startAgent({
      stateDir,
      config: {
        routers: [{ name: world.router.name, host: '127.0.0.1', port: apiPort, transport: 'api', username: ROUTER_USER, password: ROUTER_PASSWORD }],
        logLevel: 'silent',
        healthIntervalSeconds: 30,
      },
      timing: { pingIntervalMs: 1000, backoffBaseMs: 50, backoffCapMs: 500 },
    });
    stops.push(() => agent.stop());
    await agent.whenConnected();
    await agent.reportHealth();
    const dashboard = await startDashboard(controller.url);
    stops.push(async () => {
      if (dashboard.child.exitCode !== null) return;
      const exited = new Promise((r) => dashboard.child.once('exit', r));
      dashboard.child.kill('SIGTERM');
      await exited;
    });
    return { api, world, sim, agent, controller, daraja, url: dashboard.url, port: dashboard.port, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export { eventually } from '../../../controller/test/helpers/stack.ts';
