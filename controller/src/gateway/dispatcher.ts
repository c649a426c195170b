import { type AckMessage, type AgentMessage, type HealthMessage, type HelloMessage, type HotspotMessage, type LogMessage } from '@mtandao/protocol';
import type { KeyObject } from 'node:crypto';
import type { Logger } from '../logger.ts';
import type { JobsRepository } from '../repositories/jobs.repository.ts';
import type { ClaimedJob, OutboxRepository } from '../repositories/outbox.repository.ts';
import type { RoutersRepository } from '../repositories/routers.repository.ts';
import type { SitesRepository } from '../repositories/sites.repository.ts';
import type { ProvisioningService } from '../services/provisioning.service.ts';
import type { BuildOutcome, DesiredStateBuilder } from './desired-state.ts';
import { readAck, retryDelayMs } from './ack-reading.ts';
import { commandFrames } from './command-frames.ts';
import type { AgentHub, AgentSession } from './hub.ts';
import { OutboxListener } from './outbox-listener.ts';
import type { RouterWatch } from './router-watch.ts';

/** Jobs claimed per round trip to the database. */
const BATCH = 64;
/**
 * Claims for one agent start at least this far apart: under a burst each claim takes the jobs of
 * several requests (one statement instead of one each); a lone add, long after the last claim,
 * is claimed at once.
 */
const CLAIM_SPACING_MS = 4;
/** Commands in flight per agent before the dispatcher waits for acks. */
const MAX_IN_FLIGHT = 512;
/** A sent job without an ack this long is sent again (same id, the agent answers `duplicate` if it had it). */
const REDELIVER_AFTER_MS = 60_000;
interface SessionState {
  /** What the agent said it speaks in its hello (1 until then). */
  capability: number;
  running: boolean;
  again: boolean;
  /** When the last drain started, and the timer that starts the next one no sooner than {@link CLAIM_SPACING_MS} after it. */
  lastDrainAt: number;
  spacing?: NodeJS.Timeout;
  inFlight: number;
  /** The last drain stopped because {@link MAX_IN_FLIGHT} commands awaited acks: settling acks must start another. */
  starved: boolean;
  /** Successful acks waiting to be written together. */
  applied: { commandId: string; result: Record<string, unknown> | null; event: string; seq: number }[];
  flushing: boolean;
}

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
  private routerSites = new Map<string, string>();
  private routerNames = new Map<string, string>();
  private timers: NodeJS.Timeout[] = [];
  private listener?: OutboxListener;
  private stopped = false;

  private readonly hub: AgentHub;
  private readonly outbox: OutboxRepository;
  private readonly jobs: JobsRepository;
  private readonly sites: SitesRepository;
  private readonly routers: RoutersRepository;
  private readonly builder: DesiredStateBuilder;
  private readonly provisioning: ProvisioningService;
  private readonly signingKey: KeyObject;
  private readonly logger: Logger;
  private readonly options: DispatcherOptions;

  constructor(deps: DispatcherDeps, options: DispatcherOptions) {
    ({
      hub: this.hub,
      outbox: this.outbox,
      jobs: this.jobs,
      sites: this.sites,
      routers: this.routers,
      builder: this.builder,
      provisioning: this.provisioning,
      signingKey: this.signingKey,
      logger: this.logger,
    } = deps);
    this.options = options;
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

  private async refreshRouters(): Promise<void> {
    this.routerSites = await this.outbox.routerSites();
    const names = new Map<string, string>();
    for (const r of await this.routers.list()) names.set(String(r.id), r.name);
    this.routerNames = names;
  }

  private async wakeRouters(routerIds: string[]): Promise<void> {
    if (routerIds.some((id) => !this.routerSites.has(id))) await this.refreshRouters().catch(() => undefined);
    const sites = new Set(routerIds.map((id) => this.routerSites.get(id)).filter((s): s is string => !!s));
    for (const session of this.hub.sessions.values()) if (sites.has(session.siteId)) this.kick(session);
  }

  private kickAll(): void {
    for (const session of this.hub.sessions.values()) this.kick(session);
  }

  kick(session: AgentSession): void {
    if (!session.helloReceived || !session.open) return;
    const st = this.stateOf(session);
    if (st.running) {
      st.again = true;
      return;
    }
    if (st.spacing) return;
    const wait = st.lastDrainAt + CLAIM_SPACING_MS - performance.now();
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
    st.lastDrainAt = performance.now();
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
      st = { capability: 1, running: false, again: false, lastDrainAt: 0, inFlight: 0, starved: false, applied: [], flushing: false };
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
        if (claimed.length > 0) await this.deliver(session, st, claimed, log);
        if (claimed.length < limit) return;
      }
    } catch (err) {
      log.error({ err }, 'dispatching to the agent failed; will retry');
    }
  }

  /** Builds, signs and sends claimed (or redelivered) jobs in seq order. */
  private async deliver(session: AgentSession, st: SessionState, claimed: ClaimedJob[], log: Logger): Promise<void> {
    if (claimed.some((j) => !this.routerNames.has(String(j.router_id)))) await this.refreshRouters();
    const built = await this.builder.build(claimed, this.routerNames, st.capability);
    // claimed for a connection that closed meanwhile (the agent died, or reconnected: its new
    // session may already have read what was in flight): back to the queue, for the session now
    const unsent: string[] = [];
    for (const job of claimed) {
      if (!session.open) {
        unsent.push(job.command_id);
        continue;
      }
      const outcome: BuildOutcome = built.get(String(job.id)) ?? { fail: 'nothing was built' };
      // a child logger per job costs more than the send itself: made only for a line that is written
      const jobLog = () =>
        log.child({
          jobId: String(job.id),
          routerId: String(job.router_id),
          routerName: this.routerNames.get(String(job.router_id)),
          ...(job.customer_id ? { customerId: String(job.customer_id) } : {}),
        });
      if ('skip' in outcome) {
        await this.outbox.settle(
          job.command_id,
          { status: 'applied', result: { skipped: outcome.skip }, event: `nothing to send: ${outcome.skip}` },
          session.agentId,
        );
        continue;
      }
      if ('fail' in outcome) {
        jobLog().warn({ reason: outcome.fail }, 'job cannot be delivered');
        await this.outbox.settle(job.command_id, { status: 'failed', error: outcome.fail, routerError: null, event: outcome.fail }, session.agentId);
        continue;
      }
      for (const frame of commandFrames(job, outcome.commands, { agentId: session.agentId, capability: st.capability }, this.signingKey)) session.send(frame);
      st.inFlight += 1;
      if (log.isLevelEnabled('debug')) jobLog().debug({ type: job.type, seq: Number(job.seq), commandId: job.command_id }, 'command sent');
    }
    if (unsent.length > 0) {
      const requeued = await this.outbox.requeueUnsent(unsent, session.agentId);
      log.info({ requeued }, 'the connection closed before claimed jobs were sent; they go back to the queue');
      const current = this.hub.sessions.get(session.agentId);
      if (current && current !== session) this.kick(current);
    }
  }

  // agent messages

  async onConnected(session: AgentSession): Promise<void> {
    this.stateOf(session).inFlight = 0;
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
        return this.onAck(session, msg);
      case 'acks': {
        // each ack as if it came alone; the successful ones settle together in one statement
        for (const ack of msg.acks) if (ack.agentId === session.agentId) await this.onAck(session, ack, false);
        return this.flushApplied(session, this.stateOf(session));
      }
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
        await this.deliver(session, st, pending, log);
      }
    } finally {
      st.running = false;
    }
    this.kick(session);
  }

  private async onAck(session: AgentSession, ack: AckMessage, flush = true): Promise<void> {
    const reading = readAck(ack);
    const { commandId } = reading;
    if (reading.kind === 'progress') {
      const jobId = await this.outbox.jobOfCommand(commandId, session.agentId);
      if (jobId) await this.jobs.addEvents([{ jobId, kind: 'progress', message: reading.event, agentId: session.agentId, commandId: ack.commandId }]);
      return;
    }
    const st = this.stateOf(session);
    if (reading.kind === 'applied') {
      st.applied.push({ commandId, result: reading.result, event: reading.event, seq: ack.seq });
      return flush ? this.flushApplied(session, st) : undefined;
    }
    let settled;
    if (reading.kind === 'requeue') {
      settled = await this.outbox.settle(
        commandId,
        { status: 'pending', delayMs: 0, error: reading.error, routerError: null, event: reading.event },
        session.agentId,
      );
    } else if (reading.kind === 'retry') {
      const job = await this.jobs.get((await this.outbox.jobOfCommand(commandId, session.agentId)) ?? '0');
      const delay = retryDelayMs(job?.attempts ?? 1);
      const event = `failed: ${reading.error}; retrying in ${Math.round(delay / 100) / 10} s`;
      settled = await this.outbox.settle(
        commandId,
        { status: 'pending', delayMs: delay, error: reading.error, routerError: reading.routerError, event },
        session.agentId,
      );
    } else {
      settled = await this.outbox.settle(
        commandId,
        { status: 'failed', error: reading.error, routerError: reading.routerError, event: reading.event },
        session.agentId,
      );
    }
    const log = this.logger.child({ agentId: session.agentId, commandId: ack.commandId });
    if (!settled) {
      log.debug({ status: ack.status }, 'ack for a command that is no longer in flight');
      return;
    }
    log.warn(
      {
        jobId: String(settled.id),
        routerId: String(settled.router_id),
        routerName: this.routerNames.get(String(settled.router_id)),
        status: settled.status,
        error: ack.error?.message,
        routerError: ack.error?.routerError,
      },
      'command did not apply',
    );
    st.inFlight = Math.max(0, st.inFlight - 1);
    if (ack.seq > 0) await this.sites.setAckedSeq(session.agentId, ack.seq);
    this.kick(session);
  }

  /** Writes the successful acks gathered so far in one statement; acks arriving meanwhile wait for the next. */
  private async flushApplied(session: AgentSession, st: SessionState): Promise<void> {
    if (st.flushing) return;
    st.flushing = true;
    try {
      while (st.applied.length > 0) {
        const batch = st.applied.splice(0, 500);
        const settled = await this.outbox.settleApplied(batch, session.agentId);
        st.inFlight = Math.max(0, st.inFlight - settled.length);
        if (st.starved) this.kick(session);
      }
    } catch (err) {
      this.logger.error({ err, agentId: session.agentId }, 'recording acks failed');
    } finally {
      st.flushing = false;
    }
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
        await this.deliver(session, st, stale, this.logger.child({ agentId: session.agentId }));
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
