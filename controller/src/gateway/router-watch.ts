import { COUNTED_MENUS, type CountedMenu, type EntryCounts, type HealthMessage } from '@mtandao/protocol';
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

/** How a menu's entries are called in a log line. */
const ENTRY_WORDS: Readonly<Record<CountedMenu, string>> = {
  '/ppp/secret': 'PPPoE secrets',
  '/ip/hotspot/user': 'Hotspot users',
  '/queue/simple': 'simple queues',
  '/ip/firewall/address-list': 'address-list entries',
};

/**
 * Why a router's entry counts mean managed entries went missing, or undefined: a menu holds
 * fewer entries, managed or not, than the controller applied there.
 *
 * The router counts a whole menu (`print count-only`), its own entries included, so the sign is
 * "total < expected managed": sound (with every managed entry present the total is at least the
 * expected count, so it never fires on a healthy router), but it misses a loss that unmanaged
 * entries added meanwhile make up for. The periodic drift check, which reads every entry, is the
 * net under that.
 */
export function entrySign(counts: EntryCounts, expected: Partial<Record<CountedMenu, number>>): string | undefined {
  const short = COUNTED_MENUS.flatMap((menu) => {
    const held = counts[menu];
    const want = expected[menu] ?? 0;
    return held !== undefined && held < want ? [`the router holds ${held} ${ENTRY_WORDS[menu]}, ${want} were applied`] : [];
  });
  return short.length > 0 ? short.join('; ') : undefined;
}

/**
 * Keeps routers holding what the controller says when nobody asked for a change: a reconcile
 * when an agent connects (throttled), when a health report shows a router restarted, was
 * replaced or reset (uptime went backwards, identity or version changed) or holds fewer entries
 * than were applied to it (someone removed them, or loaded an old configuration, without a
 * restart), and a periodic drift check per router. A reconcile with nothing to repair only reads.
 */
export class RouterWatch {
  private timer?: NodeJS.Timeout;
  private startedAt = Date.now();
  /** When each router was last queued a reconcile for missing entries: a router that stays short (its writes fail) is tried once per throttle interval, not on every report. */
  private readonly shortQueuedAt = new Map<string, number>();

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
        counted: r.reachable && r.entries !== undefined,
      });
      if (!change || !r.reachable) continue;
      const log = this.logger.child({ agentId: msg.agentId, routerId: change.routerId, routerName: change.routerName });
      const sign = restartSign(change.before, r);
      if (sign) {
        const queued = await this.reconciles.queue([change.routerId], `${sign}: it may have lost its configuration`);
        log.warn({ queued: queued.length > 0 }, `${sign}; reconciling it`);
      } else if (r.entries && change.before.countedAt) await this.checkEntries(change.routerId, r.entries, change.before.countedAt, log);
    }
  }

  /** Queues a reconcile of a router whose counts show entries went missing. */
  private async checkEntries(routerId: string, counts: EntryCounts, countedBefore: Date, log: Logger): Promise<void> {
    // Every customer that belongs here first: nearly always the counts reach it, and nothing more is read.
    if (!entrySign(counts, await this.routers.expectedEntries(routerId))) return;
    const sign = entrySign(counts, await this.routers.expectedEntries(routerId, countedBefore));
    if (!sign) return;
    const last = this.shortQueuedAt.get(routerId);
    if (last !== undefined && Date.now() - last < this.options.throttleMs) {
      log.debug(`${sign}; a reconcile for it was queued a moment ago`);
      return;
    }
    // skipSent: a reconcile on its way repairs this too (a big router stays short until it lands)
    const queued = await this.reconciles.queue([routerId], `${sign}: entries went missing`, { skipSent: true });
    if (queued.length === 0) return log.debug(`${sign}; a reconcile of it is already on its way`);
    this.shortQueuedAt.set(routerId, Date.now());
    log.warn(`${sign}; reconciling it`);
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
