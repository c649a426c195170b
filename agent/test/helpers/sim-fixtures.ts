/** Emulators for tests: started on ephemeral ports, stopped after each suite. */
import type { RouterTransport } from '@mtandao/protocol';
import type { RouterConfig } from '../../src/drivers/types.ts';
import { RouterOsSim, type RouterOsSimOptions, type SimPorts } from '@mtandao/routeros-sim';

export const USER = 'admin';
export const PASSWORD = 'pass word';

/** A started emulator and how to reach it. */
export interface Router {
  sim: RouterOsSim;
  ports: SimPorts;
  /** The RouterConfig a driver needs for this emulator. */
  config(transport: RouterTransport, extra?: Partial<RouterConfig>): RouterConfig;
}

/** Starts an emulator with the test credentials. */
export async function startRouter(options: RouterOsSimOptions = {}): Promise<Router> {
  const sim = new RouterOsSim({ username: USER, password: PASSWORD, identity: 'test-router', ...options });
  const ports = await sim.start();
  const portOf = (t: RouterTransport): number => {
    const p = t === 'api' ? ports.apiPort : t === 'api-ssl' ? ports.apiSslPort : ports.sshPort;
    if (p === undefined) throw new Error(`emulator has no ${t} port`);
    return p;
  };
  return {
    sim,
    ports,
    config: (transport, extra = {}) => ({
      name: 'r1',
      host: '127.0.0.1',
      port: portOf(transport),
      transport,
      username: USER,
      password: PASSWORD,
      timeoutMs: 3000,
      ...extra,
    }),
  };
}

/**
 * One emulator for a mocha suite: started before it, stopped after it, its fault knobs turned
 * back (latency, op cost, down, refused logins) after each test.
 */
export function routerPerSuite(options: RouterOsSimOptions = {}): () => Router {
  let router: Router | undefined;
  before(async () => {
    router = await startRouter(options);
  });
  afterEach(() => {
    router?.sim.setLatency(0);
    router?.sim.setOpCost(0);
    router?.sim.refuseLogins(false);
    router?.sim.setDown(false);
  });
  after(() => router?.sim.stop());
  return () => {
    if (!router) throw new Error('router not started');
    return router;
  };
}

/** Waits until `check` holds (or fails the test after `ms`). */
export async function eventually(check: () => boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
