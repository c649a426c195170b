import {
  CAPABILITY_VERSION,
  COUNTED_MENUS,
  type EntryCounts,
  type HelloMessage,
  type HotspotRouterReport,
  type RouterHealth,
  type TypedEnvelope,
} from '@mtandao/protocol';
import type { AgentConfig } from './config.ts';
import { jittered } from './channel/backoff.ts';
import { ControllerChannel, type ChannelTiming } from './channel/connection.ts';
import { controllerUrls, type Resolver } from './channel/endpoints.ts';
import { CommandIntake, type Executor } from './channel/intake.ts';
import { pinningOpener, routerRuntime, type HealthProbe, type RouterRuntime } from './channel/routers.ts';
import type { RouterConfig } from './drivers/types.ts';
import { createLogger, type Logger } from './logger.ts';
import { ensureStateDir, lockStateDir } from './state/files.ts';
import { HostKeyStore } from './state/host-keys.ts';
import { loadIdentity, type LoadedIdentity } from './state/identity.ts';
import { CommandJournal } from './state/journal.ts';
import { AGENT_VERSION } from './version.ts';

export { enrollAgent, EnrollError, type EnrollOptions } from './channel/enroll.ts';
export { loadAgentConfig, parseAgentConfig, resolvePaths, ConfigError, type AgentConfig } from './config.ts';
export type { Executor } from './channel/intake.ts';
export { createLogger, type Logger } from './logger.ts';
export type { HealthProbe } from './channel/routers.ts';

/** Timing knobs; defaults follow SPEC section 6. Tests shorten them. */
export interface AgentTiming extends ChannelTiming {
  /** Overrides `config.healthIntervalSeconds`. */
  healthIntervalMs: number;
  /** A router that does not answer a health probe within this long is reported unreachable. */
  healthTimeoutMs: number;
  /** A chunked reconcile whose chunks stop coming is dropped after this long. */
  reconcileStaleMs: number;
  /** How long `stop()` lets running commands finish. */
  stopGraceMs: number;
  /** How often the hotspot (who is online, voucher use) is read and reported; default 60 s, 0 turns it off. */
  hotspotIntervalMs: number;
}

/** How to start an agent in-process (the CLI, tests, benchmarks, the demo). */
export interface StartAgentOptions {
  stateDir: string;
  config: AgentConfig;
  /** Applies commands; default: the real drivers and reconcile logic. */
  executor?: Executor;
  /** Reads router health; default: the real drivers. */
  probe?: HealthProbe;
  logger?: Logger;
  /** Already loaded identity; default: read from `stateDir`. */
  identity?: LoadedIdentity;
  timing?: Partial<AgentTiming>;
  /** Resolves controller host names to all their addresses (default: the system resolver). */
  resolve?: Resolver;
  /** Commands running at once on one router (default 256: a batch of them goes out as one pipelined round). */
  concurrencyPerRouter?: number;
}

/** A running agent. */
export interface AgentHandle {
  readonly agentId: string;
  /** Highest command seq accepted so far (persisted). */
  readonly lastSeq: number;
  readonly connected: boolean;
  /** The controller URL of the open connection (or the last one tried). */
  readonly controllerUrl: string | undefined;
  /** Commands accepted and not finished. */
  readonly pending: number;
  /** Resolves when the agent is (or next becomes) connected to the controller. */
  whenConnected(): Promise<void>;
  /** Resolves once no command is running and every outcome is journaled. */
  idle(): Promise<void>;
  /** Probes every router now and sends a health report. */
  reportHealth(): Promise<RouterHealth[]>;
  /** Lets running commands finish (up to `stopGraceMs`), closes the connection, the journal and router links. */
  stop(): Promise<void>;
  /** Settles once `stop()` has finished. */
  readonly stopped: Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The counts of the menus the health schema knows, or undefined when there are none. */
function entryCounts(entries: Partial<Record<string, number>> | undefined): EntryCounts | undefined {
  const out: EntryCounts = {};
  for (const menu of COUNTED_MENUS) {
    const n = entries?.[menu];
    if (n !== undefined && Number.isSafeInteger(n) && n >= 0 && n <= 2 ** 31) out[menu] = n;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

async function probeRouter(router: RouterConfig, probe: HealthProbe, timeoutMs: number): Promise<RouterHealth> {
  const checkedAt = (): string => new Date().toISOString();
  try {
    const { version, identity, uptimeSeconds, entries } = await withTimeout(probe(router), timeoutMs, `health of ${router.name}`);
    const counts = entryCounts(entries);
    return {
      name: router.name,
      reachable: true,
      version: version.slice(0, 64),
      identity: identity.slice(0, 128),
      ...(uptimeSeconds === undefined ? {} : { uptimeSeconds }),
      ...(counts ? { entries: counts } : {}),
      checkedAt: checkedAt(),
    };
  } catch (err) {
    const error = err instanceof Error ? ((err as { routerMessage?: string }).routerMessage ?? err.message) : String(err);
    return { name: router.name, reachable: false, error: error.slice(0, 1000), checkedAt: checkedAt() };
  }
}

/**
 * Starts a site agent: loads its identity and journal, re-runs commands a previous run accepted
 * but did not finish, connects to the controller and reports router health until stopped.
 */
export async function startAgent(options: StartAgentOptions): Promise<AgentHandle> {
  const { stateDir, config } = options;
  await ensureStateDir(stateDir);
  const loaded = options.identity ?? (await loadIdentity(stateDir));
  const { identity } = loaded;
  const logger = (options.logger ?? createLogger({ level: config.logLevel })).child({ agentId: identity.agentId });
  if (loaded.keyFileTooOpen) logger.warn({ stateDir }, 'the private key file is readable by other users; chmod 600 it');
  const timing = options.timing ?? {};
  const healthIntervalMs = timing.healthIntervalMs ?? config.healthIntervalSeconds * 1000;
  const healthTimeoutMs = timing.healthTimeoutMs ?? 10_000;

  const hostKeys = await HostKeyStore.open(stateDir);
  const runtime: RouterRuntime | undefined = options.executor && options.probe ? undefined : routerRuntime(logger, pinningOpener(hostKeys));
  const probe = options.probe ?? runtime!.probe;
  // A router last reported unreachable is reported again the moment a command on it succeeds,
  // not at the next health tick (a healthy router costs nothing here: one map lookup).
  const lastReachable = new Map<string, boolean>();
  const run = options.executor ?? runtime!.executor;
  const executor: Executor = async (router, envelope) => {
    const result = await run(router, envelope);
    if (lastReachable.get(router.name) === false) {
      lastReachable.delete(router.name);
      void reportHealth([router]);
    }
    // a hotspot read travels as its own messages; the ack only says how many sessions it saw
    if (result.hotspot) {
      const { hotspot, ...rest } = result;
      sendHotspot(hotspot);
      return { ...rest, summary: { sessions: hotspot.reduce((n, r) => n + r.active.length, 0) } };
    }
    return result;
  };
  const sendHotspot = (reports: readonly HotspotRouterReport[]): void => {
    for (const report of reports) channel.send({ type: 'hotspot', agentId: identity.agentId, report, at: new Date().toISOString() });
  };
  const readHotspots = async (): Promise<void> => {
    await Promise.all(
      config.routers.map(async (router) => {
        if (lastReachable.get(router.name) === false) return;
        const envelope = { id: 'hotspot-poll', type: 'hotspot.read', payload: { router: router.name } } as TypedEnvelope;
        await executor(router, envelope).catch((err: unknown) => logger.debug({ routerName: router.name, err: (err as Error).message }, 'hotspot read failed'));
      }),
    );
  };

  const unlock = await lockStateDir(stateDir);
  const journal = await CommandJournal.open(stateDir, { logger }).catch(async (err: unknown) => {
    await unlock();
    throw err;
  });
  const hello = (): HelloMessage => ({
    type: 'hello',
    agentId: identity.agentId,
    agentVersion: AGENT_VERSION,
    capability: CAPABILITY_VERSION,
    lastSeq: journal.lastSeq,
    routers: config.routers.map((r) => ({ name: r.name, transport: r.transport, host: r.host })),
    sentAt: new Date().toISOString(),
  });

  const channel: ControllerChannel = new ControllerChannel({
    url: identity.websocketUrl,
    urls: controllerUrls(identity.websocketUrl, [...(identity.controllerUrls ?? []), ...(config.controllers ?? [])]),
    resolve: options.resolve,
    agentId: identity.agentId,
    privateKey: loaded.privateKey,
    logger,
    timing,
    hello,
    onFrame: (text) => intake.handleFrame(text),
    onConnected: () => void reportHealth(),
    acksPending: () => journal.outcomesInFlight,
  });
  const intake = new CommandIntake({
    agentId: identity.agentId,
    controllerKey: loaded.controllerKey,
    journal,
    routers: config.routers,
    executor,
    send: (msg) => channel.send(msg),
    logger,
    concurrencyPerRouter: options.concurrencyPerRouter,
    reconcileStaleMs: timing.reconcileStaleMs,
    onBacklog: (high) => channel.pauseReading(high),
  });

  const reportHealth = async (which: readonly RouterConfig[] = config.routers): Promise<RouterHealth[]> => {
    const routers = await Promise.all(which.map((r) => probeRouter(r, probe, healthTimeoutMs)));
    for (const r of routers) {
      lastReachable.set(r.name, r.reachable);
      if (!r.reachable) logger.warn({ routerName: r.name, error: r.error }, 'router unreachable');
    }
    channel.send({ type: 'health', agentId: identity.agentId, routers, at: new Date().toISOString() });
    return routers;
  };

  const rerun = intake.resumeUnfinished();
  if (rerun > 0) logger.info({ commands: rerun }, 'resuming commands accepted before the restart; their acks wait for the controller');

  let healthTimer: NodeJS.Timeout | undefined;
  let stopping = false;
  const scheduleHealth = (): void => {
    if (stopping) return;
    healthTimer = setTimeout(
      () => {
        void reportHealth().finally(scheduleHealth);
      },
      jittered(healthIntervalMs, 0.1),
    );
  };
  scheduleHealth();
  // a test's own executor is not asked to read hotspots unless the test says so
  const hotspotIntervalMs = timing.hotspotIntervalMs ?? (options.executor ? 0 : 60_000);
  let hotspotTimer: NodeJS.Timeout | undefined;
  const scheduleHotspot = (): void => {
    if (stopping || hotspotIntervalMs <= 0) return;
    hotspotTimer = setTimeout(() => void (channel.connected ? readHotspots() : Promise.resolve()).finally(scheduleHotspot), jittered(hotspotIntervalMs, 0.1));
  };
  scheduleHotspot();
  const sweepTimer = setInterval(() => void intake.sweepStaleReconciles(), Math.min(60_000, Math.max(1000, (timing.reconcileStaleMs ?? 600_000) / 4)));
  channel.start();
  logger.info({ version: AGENT_VERSION, routers: config.routers.map((r) => r.name), lastSeq: journal.lastSeq, controllers: channel.urls }, 'agent started');

  let stopRequested: () => void = () => undefined;
  const requested = new Promise<void>((resolve) => (stopRequested = resolve));
  const stopped = requested.then(async () => {
    stopping = true;
    intake.stopAccepting();
    clearTimeout(healthTimer);
    clearTimeout(hotspotTimer);
    clearInterval(sweepTimer);
    await Promise.race([intake.idle(), sleep(timing.stopGraceMs ?? 10_000)]);
    await channel.stop();
    await journal.close();
    await unlock();
    await runtime?.close();
    logger.info('agent stopped');
  });

  return {
    agentId: identity.agentId,
    get lastSeq() {
      return journal.lastSeq;
    },
    get connected() {
      return channel.connected;
    },
    get controllerUrl() {
      return channel.controllerUrl;
    },
    get pending() {
      return intake.pending;
    },
    whenConnected: () => channel.whenConnected(),
    idle: () => intake.idle(),
    reportHealth: () => reportHealth(),
    stop: () => {
      stopRequested();
      return stopped;
    },
    stopped,
  };
}
