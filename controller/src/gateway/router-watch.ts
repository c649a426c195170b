import type { HealthMessage } from '@mtandao/protocol';
import type { Logger } from '../logger.ts';
import type { HealthChange, RoutersRepository } from '../repositories/routers.repository.ts';
import type { AgentHub } from './hub.ts';
import type { ReconcileQueue } from './reconcile-queue.ts';

/** Tuning of {@link RouterWatch}. */
export interface RouterWatchOptions {
  /** Reconcile every router of a site when its agent connects. */
  reconcileOnConnect: boolean;
  /** Each router is reconciled (read, and written only where it drifted) this often; 0 turns it off. */
  driftCheckMs: number;
  /** Automatic reconciles of one router (on connect, drift check) are at least this far apart: a flapping link does not turn into a reconcile storm. */
  throttleMs: number;
}

/** Why a health report means the router may have lost its configuration, or undefined. */
export function restartSign(
  before: HealthChange['before'],
  now: { version?: string | undefined; identity?: string | undefined; uptimeSeconds?: number | undefined },
): string | undefined {
  if (before.identity !== null && now.identity !== undefined && now.identity !== before.identity)
    return `the router's identity changed from "${before.identity}" to "${now.identity}"`;
  if (before.version !== null && now.version !== undefined && now.version !== before.version)
    return `the router's version changed from ${before.version} to ${now.version}`;
  if (before.uptimeSeconds !== null && now.uptimeSeconds !== undefined && now.uptimeSeconds < before.uptimeSeconds) {
    return `the router restarted (uptime ${now.uptimeSeconds} s, was ${before.uptimeSeconds} s)`;
  }
  return undefined;
}

/**
 * Keeps routers holding what the controller says when nobody asked for a change: a reconcile
 * when an agent connects (throttled), when a health report shows a router restarted, was
 * replaced or reset (uptime went backwards, identity or version changed), and a periodic drift
 * check per router. A reconcile with nothing to repair only reads.
 */
export class RouterWatch {
  private timer?: NodeJS.Timeout;
  private startedAt = Date.now();

  constructor(
    private readonly reconciles: ReconcileQueue,
    private readonly routers: RoutersRepository,
    private readonly hub: AgentHub,
    private readonly logger: Logger,
    private readonly options: RouterWatchOptions,
  ) {}

  start(): void {
    if (this.options.driftCheckMs <= 0) return;
    this.startedAt = Date.now();
    const every = Math.max(1000, Math.min(60_000, this.options.driftCheckMs / 4));
    this.timer = setInterval(() => void this.driftCheck(), every);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** An agent said hello: reconcile its routers, unless they were reconciled a moment ago. */
  async onConnected(siteId: string, log: Logger): Promise<void> {
    if (!this.options.reconcileOnConnect) return;
    const routers = await this.routers.ofSite(siteId);
    const queued = new Set(
      await this.reconciles.queue(
        routers.map((r) => r.routerId),
        'agent connected',
        { skipSent: true, minGapMs: this.options.throttleMs },
      ),
    );
    // one line per router, with its id and name, so it joins the agent's lines about it
    for (const r of routers)
      if (queued.has(r.routerId)) log.info({ routerId: r.routerId, routerName: r.routerName }, 'queued a reconcile of the router: its agent connected');
  }

  /** Records a health report; a router that came back changed is reconciled at once. */
  async onHealth(siteId: string, msg: HealthMessage): Promise<void> {
    for (const r of msg.routers) {
      const change = await this.routers.updateHealth(siteId, r.name, {
        reachable: r.reachable,
        version: r.version ?? null,
        identity: r.identity ?? null,
        uptimeSeconds: r.uptimeSeconds ?? null,
        lastError: r.reachable ? null : (r.error ?? 'unreachable'),
        checkedAt: new Date(r.checkedAt),
      });
      if (!change || !r.reachable) continue;
      const sign = restartSign(change.before, r);
      if (!sign) continue;
      const log = this.logger.child({ agentId: msg.agentId, routerId: change.routerId, routerName: change.routerName });
      const queued = await this.reconciles.queue([change.routerId], `${sign}: it may have lost its configuration`);
      log.warn({ queued: queued.length > 0 }, `${sign}; reconciling it`);
    }
  }

  /** Queues a reconcile of every router whose agent is connected here and that was not reconciled within the interval. */
  async driftCheck(): Promise<void> {
    // The first round comes one interval after start: connecting agents were just reconciled (or
    // were asked not to be), and a restarted controller must not reconcile every router at once.
    if (Date.now() - this.startedAt < this.options.driftCheckMs) return;
    const sites = new Set([...this.hub.sessions.values()].filter((s) => s.open && s.helloReceived).map((s) => s.siteId));
    for (const siteId of sites) {
      try {
        const routers = await this.routers.ofSite(siteId);
        const queued = new Set(
          await this.reconciles.queue(
            routers.map((r) => r.routerId),
            'periodic drift check',
            { skipSent: true, minGapMs: this.options.driftCheckMs },
          ),
        );
        for (const r of routers)
          if (queued.has(r.routerId))
            this.logger.debug({ siteId, routerId: r.routerId, routerName: r.routerName }, 'queued the periodic drift check of the router');
      } catch (err) {
        this.logger.warn({ err, siteId }, 'could not queue the drift check');
      }
    }
  }
}
