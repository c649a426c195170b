import type { AckMessage } from '@mtandao/protocol';
import type { Logger } from '../logger.ts';
import type { JobsRepository } from '../repositories/jobs.repository.ts';
import type { OutboxRepository } from '../repositories/outbox.repository.ts';
import type { SitesRepository } from '../repositories/sites.repository.ts';
import { readAck, retryDelayMs, type AckReading } from './ack-reading.ts';
import type { AgentSession } from './hub.ts';
import type { RouterDirectory } from './router-directory.ts';
import type { SessionState } from './session-state.ts';

/** What settling acks works with. */
export interface AckSettlerDeps {
  outbox: OutboxRepository;
  jobs: JobsRepository;
  sites: SitesRepository;
  directory: RouterDirectory;
  logger: Logger;
  /** Final acks of this many jobs arrived (before they are written): a claim held for them may go. */
  acked: (session: AgentSession, st: SessionState, jobs: number) => void;
  /** Room opened for more commands (settled jobs, or a failure that may have a retry due). */
  settled: (session: AgentSession, st: SessionState) => void;
}

/**
 * Turns an agent's acks into job status, events and retries: successful ones gathered and written
 * together (one statement for all that arrived meanwhile), the others one by one with their log line.
 */
export class AckSettler {
  constructor(private readonly deps: AckSettlerDeps) {}

  /** Reads each ack of a batch as if it came alone; the successful ones settle together. */
  async onAcks(session: AgentSession, st: SessionState, acks: AckMessage[]): Promise<void> {
    let final = 0;
    const others: [AckMessage, Exclude<AckReading, { kind: 'applied' }>][] = [];
    for (const ack of acks) {
      if (ack.agentId !== session.agentId) continue;
      const reading = readAck(ack);
      if (reading.kind !== 'progress') final += 1;
      if (reading.kind === 'applied') st.applied.push({ commandId: reading.commandId, result: reading.result, event: reading.event, seq: ack.seq });
      else others.push([ack, reading]);
    }
    if (final > 0) this.deps.acked(session, st, final);
    // progress and failures in arrival order, after the batch's successes are queued for writing
    for (const [ack, reading] of others) await this.settleOther(session, st, ack, reading);
    return this.flushApplied(session, st);
  }

  async onAck(session: AgentSession, st: SessionState, ack: AckMessage): Promise<void> {
    return this.onAcks(session, st, [ack]);
  }

  /** Records an ack that is not a success: progress of a chunked reconcile, a retry, a requeue or a failure. */
  private async settleOther(session: AgentSession, st: SessionState, ack: AckMessage, reading: Exclude<AckReading, { kind: 'applied' }>): Promise<void> {
    const { outbox, jobs } = this.deps;
    const { commandId } = reading;
    if (reading.kind === 'progress') {
      const jobId = await outbox.jobOfCommand(commandId, session.agentId);
      if (jobId) await jobs.addEvents([{ jobId, kind: 'progress', message: reading.event, agentId: session.agentId, commandId: ack.commandId }]);
      return;
    }
    let settled;
    if (reading.kind === 'requeue') {
      settled = await outbox.settle(
        commandId,
        { status: 'pending', delayMs: 0, error: reading.error, routerError: null, event: reading.event },
        session.agentId,
      );
    } else if (reading.kind === 'retry') {
      const job = await jobs.get((await outbox.jobOfCommand(commandId, session.agentId)) ?? '0');
      const delay = retryDelayMs(job?.attempts ?? 1);
      const event = `failed: ${reading.error}; retrying in ${Math.round(delay / 100) / 10} s`;
      settled = await outbox.settle(
        commandId,
        { status: 'pending', delayMs: delay, error: reading.error, routerError: reading.routerError, event },
        session.agentId,
      );
    } else {
      settled = await outbox.settle(
        commandId,
        { status: 'failed', error: reading.error, routerError: reading.routerError, event: reading.event },
        session.agentId,
      );
    }
    const log = this.deps.logger.child({ agentId: session.agentId, commandId: ack.commandId });
    if (!settled) {
      log.debug({ status: ack.status }, 'ack for a command that is no longer in flight');
      return;
    }
    log.warn(
      {
        jobId: String(settled.id),
        routerId: String(settled.router_id),
        routerName: this.deps.directory.name(settled.router_id),
        status: settled.status,
        error: ack.error?.message,
        routerError: ack.error?.routerError,
      },
      'command did not apply',
    );
    st.inFlight = Math.max(0, st.inFlight - 1);
    if (ack.seq > 0) await this.deps.sites.setAckedSeq(session.agentId, ack.seq);
    this.deps.settled(session, st);
  }

  /** Writes the successful acks gathered so far in one statement; acks arriving meanwhile wait for the next. */
  private async flushApplied(session: AgentSession, st: SessionState): Promise<void> {
    if (st.flushing) return;
    st.flushing = true;
    try {
      while (st.applied.length > 0) {
        const batch = st.applied.splice(0, 500);
        const settled = await this.deps.outbox.settleApplied(batch, session.agentId);
        st.inFlight = Math.max(0, st.inFlight - settled.length);
        if (st.starved) this.deps.settled(session, st);
      }
    } catch (err) {
      this.deps.logger.error({ err, agentId: session.agentId }, 'recording acks failed');
    } finally {
      st.flushing = false;
    }
  }
}
