import { COUNTED_MENUS, type ApplyResult, type TypedEnvelope } from '@mtandao/protocol';
// The one place the runner reaches the drivers and the desired-state logic.
import { openRouter } from '../drivers/index.ts';
import type { RouterClient, RouterConfig, RouterHealthInfo } from '../drivers/types.ts';
import type { Logger } from '../logger.ts';
import type { HostKeyPins } from '../state/host-keys.ts';
import { executeCommand } from '../reconcile/index.ts';
import type { Executor } from './intake.ts';

/** Reads a router's version, identity, uptime and entry counts (throws when it cannot). */
export type HealthProbe = (router: RouterConfig) => Promise<RouterHealthInfo>;

/** Opens a driver for a router. */
export type OpenRouter = (config: RouterConfig, logger: Logger) => RouterClient;
/** Applies one command through a driver (a gathered reconcile arrives as one chunk). */
export type ExecuteCommand = (client: RouterClient, envelope: TypedEnvelope) => Promise<ApplyResult>;

/** What the runner needs to touch routers. */
export interface RouterRuntime {
  executor: Executor;
  probe: HealthProbe;
  close(): Promise<void>;
}

/**
 * One client per router for the agent's lifetime, shared by every command for it: the drivers
 * keep one session, pipeline tagged requests and reconnect after a drop by themselves, so a
 * command never pays for connect and login.
 */
export class RouterPool {
  private readonly clients = new Map<string, RouterClient>();
  constructor(
    private readonly open: OpenRouter,
    private readonly logger: Logger,
  ) {}

  use<T>(router: RouterConfig, task: (client: RouterClient) => Promise<T>): Promise<T> {
    let client = this.clients.get(router.name);
    if (!client) {
      client = this.open(router, this.logger.child({ routerName: router.name }));
      this.clients.set(router.name, client);
    }
    return task(client);
  }

  async close(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.allSettled(clients.map((c) => c.close()));
  }
}

/** Opens routers with the real drivers, SSH host keys checked against (and pinned on first use in) `hostKeys`. */
export const pinningOpener =
  (hostKeys: HostKeyPins): OpenRouter =>
  (config, logger) =>
    openRouter(config, logger, { ssh: { hostKeys } });

/**
 * A health probe's reading: version, identity and uptime, and how many entries each customer menu
 * holds (one `count-only` each, alongside: a router that lost entries without restarting shows it
 * here). Counts the driver cannot read are left out; the rest of the report still goes.
 */
export async function probeHealth(client: RouterClient): Promise<RouterHealthInfo> {
  const [health, entries] = await Promise.all([client.health(), client.countEntries?.(COUNTED_MENUS).catch(() => undefined)]);
  return entries && Object.keys(entries).length > 0 ? { ...health, entries } : health;
}

/** The default runtime: the real drivers through a pool, commands through agent/src/reconcile. */
export function routerRuntime(logger: Logger, open: OpenRouter = openRouter, execute: ExecuteCommand = executeCommand): RouterRuntime {
  const pool = new RouterPool(open, logger);
  return {
    executor: (router, envelope) => pool.use(router, (client) => execute(client, envelope)),
    probe: (router) => pool.use(router, probeHealth),
    close: () => pool.close(),
  };
}
