import { type AgentMessage, type HealthMessage, type HelloMessage, type HotspotMessage, type LogMessage } from '@mtandao/protocol';
import type { KeyObject } from 'node:crypto';
import type { Logger } from '../logger.ts';
import type { JobsRepository } from '../repositories/jobs.repository.ts';
import type { OutboxRepository } from '../repositories/outbox.repository.ts';
import type { RoutersRepository } from '../repositories/routers.repository.ts';
import type { SitesRepository } from '../repositories/sites.repository.ts';
import type { ProvisioningService } from '../services/provisioning.service.ts';
import { AckSettler } from './ack-settler.ts';
import { Delivery } from './delivery.ts';
import type { DesiredStateBuilder } from './desired-state.ts';
import type { AgentHub, AgentSession } from './hub.ts';
import { OutboxListener } from './outbox-listener.ts';
import { RouterDirectory } from './router-directory.ts';
import type { RouterWatch } from './router-watch.ts';
import { newSessionState, type SessionState } from './session-state.ts';

/** Jobs claimed per round trip to the database. */
const BATCH = 64;
/**
 * Claims for one agent start at least this far apart: under a burst each claim takes the jobs of
 * several requests (one statement instead of one each); a lone add, long after the last claim,
 * is claimed at once.
 */
const CLAIM_SPACING_MS = 4;
/**
 * A claim while more than one job awaits its ack waits for the acks, up to this long after the
 * last batch went out (Nagle's rule): under load each claim then takes what arrived during a
 * round trip to the agent (the batch grows with the load, the statements per job shrink). A lone
 * add is claimed at once, and so are adds that come slower than the agent answers (one job in
 * flight at a time): with the router 20 ms away, holding those would cost each add a round trip.
 */
const HOLD_FOR_ACKS_MS = 20;
/** Commands in flight per agent before the dispatcher waits for acks. */
const MAX_IN_FLIGHT = 512;
/** A sent job without an ack this long is sent again (same id, the agent answers `duplicate` if it had it). */
const REDELIVER_AFTER_MS = 60_000;

/** What the dispatcher works with. */
export interface DispatcherDeps {
  hub: AgentHub;
  outbox: OutboxRepository;
  jobs: JobsRepository;
  sites: SitesRepository;
  routers: RoutersRepository;
  builder: DesiredStateBuilder;
  /** Its `wake` event says which routers have new jobs (in-process writes). */
  provisioning: ProvisioningService;
  signingKey: KeyObject;
  logger: Logger;
}

/** How the dispatcher runs. */
export interface DispatcherOptions {
  /** Polling backstop for new jobs. */
  pollMs: number;
  /** For the LISTEN connection (when `listen`). */
  databaseUrl: string;
  /** LISTEN for other instances' jobs (not on the embedded database: it cannot deliver across connections). */
  listen: boolean;
  /** Backend process ids of this instance's own connections: their NOTIFYs echo an in-process wake already handled. */
  ownBackends?: ReadonlySet<number>;
  watch: RouterWatch;
  /** Extra housekeeping run every 30 s. */
  sweep?: () => Promise<void>;
  /** {@link CLAIM_SPACING_MS} and {@link HOLD_FOR_ACKS_MS} unless told (tests). */
  claimSpacingMs?: number;
  holdForAcksMs?: number;
}

/**
 * Delivers the outbox to the agents connected to this instance: claims due jobs of the agent's site
 * (SKIP LOCKED, so several instances share one database), builds the desired state, signs and
 * sends in seq order, and turns acks into job status, events and retries. Woken by NOTIFY from any
 * instance, by in-process writes, and by polling as a backstop.
 */
export class Dispatcher {
  /** Takes an agent's hotspot report (who is online, voucher use); set by the server. */
  onHotspot?: (siteId: string, msg: HotspotMessage) => Promise<void>;
  private readonly state = new Map<string, SessionState>();
  private timers: NodeJS.Timeout[] = [];
  private listener?: OutboxListener;
  private stopped = false;

  private readonly hub: AgentHub;
  private readonly outbox: OutboxRepository;
  private readonly jobs: JobsRepository;
  private readonly sites: SitesRepository;
  private readonly provisioning: ProvisioningService;
  private readonly logger: Logger;
  private readonly options: DispatcherOptions;
  private readonly directory: RouterDirectory;
  private readonly delivery: Delivery;
  private readonly settler: AckSettler;

  constructor(deps: DispatcherDeps, options: DispatcherOptions) {
    ({ hub: this.hub, outbox: this.outbox, jobs: this.jobs, sites: this.sites, provisioning: this.provisioning, logger: this.logger } = deps);
    this.options = options;
    this.directory = new RouterDirectory(deps.outbox, deps.routers);
    const kick = (session: AgentSession) => this.kick(session);
    this.delivery = new Delivery({ hub: deps.hub, outbox: deps.outbox, builder: deps.builder, directory: this.directory, signingKey: deps.signingKey, kick });
    this.settler = new AckSettler({
      outbox: deps.outbox,
      jobs: deps.jobs,
      sites: deps.sites,
      directory: this.directory,
      logger: deps.logger,
      acked: (session, st, jobs) => {
        st.unacked = Math.max(0, st.unacked - jobs);
        // a claim held for these acks goes now
        if (st.unacked <= 1 && st.spacing) {
          clearTimeout(st.spacing);
          st.spacing = undefined;
          this.kick(session);
        }
      },
      settled: kick,
    });
  }

  async start(): Promise<void> {
    this.provisioning.wake.on('jobs', (routerIds: string[]) => void this.wakeRouters(routerIds));
    this.timers.push(setInterval(() => this.kickAll(), this.options.pollMs));
    this.timers.push(setInterval(() => void this.redeliverStale(), 15_000));
    this.timers.push(setInterval(() => void this.housekeeping(), 30_000));
    this.options.watch.start();
    if (this.options.listen) {
      this.listener = new OutboxListener(this.options.databaseUrl, (ids) => void this.wakeRouters(ids), this.logger, this.options.ownBackends);
      await this.listener.start();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    for (const st of this.state.values()) clearTimeout(st.spacing);
    this.options.watch.stop();
    this.provisioning.wake.removeAllListeners('jobs');
    await this.listener?.stop();
  }

  private async wakeRouters(routerIds: string[]): Promise<void> {
    const { directory } = this;
    if (routerIds.some((id) => !directory.sites.has(id))) await directory.refresh().catch(() => undefined);
    const sites = new Set(routerIds.map((id) => directory.sites.get(id)).filter((s): s is string => !!s));
    for (const session of this.hub.sessions.values()) if (sites.has(session.siteId)) this.kick(session);
  }

  private kickAll(): void {
    for (const session of this.hub.sessions.values()) this.kick(session);
  }

  /**
   * Starts a drain for the session, or puts it off: claims start at least {@link CLAIM_SPACING_MS}
   * apart, and one due while more than one job awaits its ack waits for the acks (at most
   * {@link HOLD_FOR_ACKS_MS} after the last batch went out).
   */
  kick(session: AgentSession): void {
    if (!session.helloReceived || !session.open) return;
    const st = this.stateOf(session);
    if (st.running) {
      st.again = true;
      return;
    }
    if (st.spacing) return;
    const now = performance.now();
    const { claimSpacingMs = CLAIM_SPACING_MS, holdForAcksMs = HOLD_FOR_ACKS_MS } = this.options;
    const wait = Math.max(st.lastDrainAt + claimSpacingMs - now, st.unacked > 1 ? st.lastSentAt + holdForAcksMs - now : 0);
    if (wait > 0) {
      st.spacing = setTimeout(() => {
        st.spacing = undefined;
        // the agent may have reconnected meanwhile: its session now
        const current = this.hub.sessions.get(session.agentId);
        if (current) this.kick(current);
      }, wait);
      return;
    }
    st.running = true;
    st.lastDrainAt = now;
    void this.drain(session, st).finally(() => {
      st.running = false;
      if (st.again && session.open) {
        st.again = false;
        this.kick(session);
      }
    });
  }

  private stateOf(session: AgentSession): SessionState {
    let st = this.state.get(session.agentId);
    if (!st) {
      st = newSessionState();
      this.state.set(session.agentId, st);
    }
    return st;
  }

  /**
   * Claims and sends until a claim comes back short: then nothing else was due when it ran, and a
   * job written since wakes this session again ({@link kick} sets `again` while a drain runs).
   */
  private async drain(session: AgentSession, st: SessionState): Promise<void> {
    const log = this.logger.child({ agentId: session.agentId });
    try {
      while (session.open && !this.stopped) {
        await session.drained();
        const room = MAX_IN_FLIGHT - st.inFlight;
        st.starved = room <= 0;
        if (st.starved) return;
        const limit = Math.min(BATCH, room);
        const claimed = await this.outbox.claim(session.siteId, session.agentId, limit);
        if (claimed.length > 0) await this.delivery.deliver(session, st, claimed, log);
        if (claimed.length < limit) return;
      }
    } catch (err) {
      log.error({ err }, 'dispatching to the agent failed; will retry');
    }
  }

  // agent messages

  async onConnected(session: AgentSession): Promise<void> {
    const st = this.stateOf(session);
    st.inFlight = 0;
    st.unacked = 0;
  }

  onDisconnected(session: AgentSession): void {
    if (!this.hub.sessions.has(session.agentId)) this.state.delete(session.agentId);
    void this.sites.markDisconnected(session.agentId, this.hub.instanceId).catch(() => undefined);
  }

  async onMessage(session: AgentSession, msg: AgentMessage): Promise<void> {
    switch (msg.type) {
      case 'hello':
        return this.onHello(session, msg);
      case 'ack':
        return this.settler.onAck(session, this.stateOf(session), msg);
      case 'acks':
        // each ack as if it came alone; the successful ones settle together in one statement
        return this.settler.onAcks(session, this.stateOf(session), msg.acks);
      case 'health':
        return this.onHealth(session, msg);
      case 'log':
        return this.onLog(session, msg);
      case 'hotspot':
        return this.onHotspot?.(session.siteId, msg);
    }
  }

  /** On hello: record the agent, align seqs, redeliver what it never acknowledged, then new work. */
  private async onHello(session: AgentSession, hello: HelloMessage): Promise<void> {
    const log = this.logger.child({ agentId: session.agentId });
    await this.sites.markConnected(session.agentId, this.hub.instanceId, { version: hello.agentVersion, capability: hello.capability });
    await this.sites.raiseNextSeq(session.agentId, hello.lastSeq);
    const orphans = await this.outbox.requeueOrphans(session.siteId, session.agentId);
    if (orphans > 0) log.info({ orphans }, 'requeued jobs sent to a retired agent of this site');
    await this.options.watch.onConnected(session.siteId, log);
    session.helloReceived = true;
    const st = this.stateOf(session);
    st.capability = hello.capability;
    st.running = true;
    try {
      const pending = await this.outbox.unacknowledged(session.agentId);
      if (pending.length > 0) {
        log.info({ count: pending.length }, 'redelivering unacknowledged commands');
        await this.outbox.touchSent(pending.map((j) => String(j.id)));
        await this.delivery.deliver(session, st, pending, log);
      }
    } finally {
      st.running = false;
    }
    this.kick(session);
  }

  private async onHealth(session: AgentSession, msg: HealthMessage): Promise<void> {
    await this.options.watch.onHealth(session.siteId, msg);
  }

  private async onLog(session: AgentSession, msg: LogMessage): Promise<void> {
    this.logger[msg.level]({ agentId: session.agentId, commandId: msg.commandId }, `agent: ${msg.message}`);
    if (!msg.commandId) return;
    const jobId = await this.outbox.jobOfCommand(msg.commandId, session.agentId);
    if (jobId) await this.jobs.addEvents([{ jobId, kind: 'agent-log', message: msg.message, agentId: session.agentId, commandId: msg.commandId }]);
  }

  /** Sends again what an open session has held too long without an ack. */
  private async redeliverStale(): Promise<void> {
    for (const session of this.hub.sessions.values()) {
      if (!session.helloReceived || !session.open) continue;
      try {
        const stale = await this.outbox.unacknowledged(session.agentId, REDELIVER_AFTER_MS);
        if (stale.length === 0) continue;
        await this.outbox.touchSent(stale.map((j) => String(j.id)));
        const st = this.stateOf(session);
        st.inFlight = Math.max(0, st.inFlight - stale.length);
        st.unacked = Math.max(0, st.unacked - stale.length);
        await this.delivery.deliver(session, st, stale, this.logger.child({ agentId: session.agentId }));
      } catch (err) {
        this.logger.warn({ err, agentId: session.agentId }, 'redelivery failed');
      }
    }
  }

  private async housekeeping(): Promise<void> {
    try {
      const expired = await this.outbox.expireOverdue();
      if (expired > 0) this.logger.warn({ expired }, 'provisioning jobs expired before reaching their router');
      await this.options.sweep?.();
    } catch (err) {
      this.logger.warn({ err }, 'housekeeping failed');
    }
  }
}
