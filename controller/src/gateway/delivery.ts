import type { KeyObject } from 'node:crypto';
import type { Logger } from '../logger.ts';
import type { ClaimedJob, OutboxRepository } from '../repositories/outbox.repository.ts';
import type { CommandFields } from '@mtandao/protocol/signing';
import { batchFrames, commandFields, commandFrames, takesBatches } from './command-frames.ts';
import type { BuildOutcome, DesiredStateBuilder } from './desired-state.ts';
import type { AgentHub, AgentSession } from './hub.ts';
import type { RouterDirectory } from './router-directory.ts';
import type { SessionState } from './session-state.ts';

/** What delivery works with. */
export interface DeliveryDeps {
  hub: AgentHub;
  outbox: OutboxRepository;
  builder: DesiredStateBuilder;
  directory: RouterDirectory;
  signingKey: KeyObject;
  /** Starts a drain for a session (the agent's current one, when jobs of a closed one went back to the queue). */
  kick: (session: AgentSession) => void;
}

/** Builds, signs and sends claimed (or redelivered) jobs to one agent session, in seq order. */
export class Delivery {
  constructor(private readonly deps: DeliveryDeps) {}

  async deliver(session: AgentSession, st: SessionState, claimed: ClaimedJob[], log: Logger): Promise<void> {
    const { directory, outbox } = this.deps;
    if (claimed.some((j) => !directory.names.has(String(j.router_id)))) await directory.refresh();
    const built = await this.deps.builder.build(claimed, directory.names, st.capability);
    // claimed for a connection that closed meanwhile (the agent died, or reconnected: its new
    // session may already have read what was in flight): back to the queue, for the session now
    const unsent: string[] = [];
    const now = new Date();
    const to = { agentId: session.agentId, capability: st.capability };
    const debug = log.isLevelEnabled('debug');
    const batching = takesBatches(st.capability);
    // single-command jobs in a row wait here to leave as one batch frame (agents of capability 4):
    // sent before any frame of a later seq, so the agent still sees its seqs rising
    let batch: { job: ClaimedJob; fields: CommandFields }[] = [];
    // a child logger per job costs more than the send itself: made only for a line that is written
    const jobLog = (job: ClaimedJob) =>
      log.child({
        jobId: String(job.id),
        routerId: String(job.router_id),
        routerName: directory.name(job.router_id),
        ...(job.customer_id ? { customerId: String(job.customer_id) } : {}),
      });
    const sent = (job: ClaimedJob) => {
      st.inFlight += 1;
      st.unacked += 1;
      st.lastSentAt = performance.now();
      if (debug) jobLog(job).debug({ type: job.type, seq: Number(job.seq), commandId: job.command_id }, 'command sent');
    };
    const flush = () => {
      if (batch.length === 0) return;
      if (!session.open) unsent.push(...batch.map((b) => b.job.command_id));
      else {
        for (const frame of batchFrames(
          batch.map((b) => b.fields),
          this.deps.signingKey,
        ))
          session.send(frame);
        for (const b of batch) sent(b.job);
      }
      batch = [];
    };
    for (const job of claimed) {
      if (!session.open) {
        unsent.push(job.command_id);
        continue;
      }
      const outcome: BuildOutcome = built.get(String(job.id)) ?? { fail: 'nothing was built' };
      if ('skip' in outcome) {
        await outbox.settle(
          job.command_id,
          { status: 'applied', result: { skipped: outcome.skip }, event: `nothing to send: ${outcome.skip}` },
          session.agentId,
        );
        continue;
      }
      if ('fail' in outcome) {
        jobLog(job).warn({ reason: outcome.fail }, 'job cannot be delivered');
        await outbox.settle(job.command_id, { status: 'failed', error: outcome.fail, routerError: null, event: outcome.fail }, session.agentId);
        continue;
      }
      if (batching && outcome.commands.length === 1) {
        batch.push({ job, fields: commandFields(job, outcome.commands, to, now)[0]! });
        continue;
      }
      flush();
      for (const frame of commandFrames(job, outcome.commands, to, this.deps.signingKey, now)) session.send(frame);
      sent(job);
    }
    flush();
    if (unsent.length > 0) {
      const requeued = await outbox.requeueUnsent(unsent, session.agentId);
      log.info({ requeued }, 'the connection closed before claimed jobs were sent; they go back to the queue');
      const current = this.deps.hub.sessions.get(session.agentId);
      if (current && current !== session) this.deps.kick(current);
    }
  }
}
