import type { KeyObject } from 'node:crypto';
import { ApplyResult, identityOf, type AckMessage, type AgentMessage, type TypedEnvelope } from '@mtandao/protocol';
import { checkEnvelope, openCommandBatch, openCommandFrame, verifyEnvelope, type OpenResult } from '@mtandao/protocol/signing';
import type { RouterConfig } from '../drivers/types.ts';
import { lazyChild, type LineLogger, type Logger } from '../logger.ts';
import type { CommandJournal } from '../state/journal.ts';
import { clip, describeFailure, fitResult, type AckError } from './ack-results.ts';
import { ReconcileGatherer } from './reconcile-chunks.ts';
import { RouterScheduler, type Ordering } from './scheduler.ts';

/** Applies one accepted command to one router. A chunked reconcile arrives here merged. */
export type Executor = (router: RouterConfig, envelope: TypedEnvelope) => Promise<ApplyResult>;

/** Dependencies and tuning of the command intake. */
export interface IntakeOptions {
  agentId: string;
  controllerKey: KeyObject;
  journal: CommandJournal;
  routers: readonly RouterConfig[];
  executor: Executor;
  /** Hands a message to the channel's outbox. */
  send: (msg: AgentMessage) => void;
  logger: Logger;
  /** Commands running at once on one router. */
  concurrencyPerRouter?: number;
  /** A reconcile whose chunks stop coming is dropped after this long. */
  reconcileStaleMs?: number;
  /** Called when the number of commands in hand crosses `highWater` (true) or falls to half (false). */
  onBacklog?: (high: boolean) => void;
  highWater?: number;
  now?: () => Date;
}

/** What became of a command; `closes` names a chunked reconcile the command ended (closed in the journal after its outcome). */
type Outcome = ({ status: 'applied'; result: ApplyResult } | { status: 'failed'; error: AckError; result?: ApplyResult }) & { closes?: string };

/** The customer or plan a command is about (logged, so one job can be followed to the router). */
function subjectOf(envelope: TypedEnvelope): { customerId: string } | { planId: string } | undefined {
  const payload = envelope.payload as { customer?: { customerId: string }; plan?: { planId: string }; planId?: string };
  if (payload.customer) return { customerId: payload.customer.customerId };
  if (payload.plan) return { planId: payload.plan.planId };
  if (payload.planId !== undefined) return { planId: payload.planId };
  return undefined;
}

/** The controller's job behind a command (its envelope's `job`, or read from an older controller's id), so a job can be followed into agent logs. */
function jobOf(commandId: string | undefined, envelope?: TypedEnvelope): { jobId: string; routerId?: string } | undefined {
  const id = commandId ? identityOf(commandId, envelope?.job) : undefined;
  return id ? { jobId: id.jobId, ...(envelope?.job?.routerId ? { routerId: envelope.job.routerId } : {}) } : undefined;
}

/** Where a command sits in its router's lane: read-only ones are free, whole-router or unknown ones are barriers. */
function orderingOf(envelope: TypedEnvelope): Ordering {
  if (envelope.type === 'router.readback' || envelope.type === 'router.health' || envelope.type === 'router.adoption-scan' || envelope.type === 'hotspot.read')
    return 'free';
  const subject = envelope.type === 'router.reconcile' ? undefined : subjectOf(envelope);
  if (!subject) return 'barrier';
  return { entity: 'customerId' in subject ? `customer:${subject.customerId}` : `plan:${subject.planId}` };
}

/**
 * Command intake as protocol/README.md lays it down: a redelivered id is answered `duplicate`
 * (once it finishes, if it still runs) and never applied twice; everything else goes through
 * `openCommandFrame`; a rejected frame is acked `rejected`; an accepted one is journaled, raises
 * lastSeq, runs in its router's lane, and its outcome is journaled and acked.
 */
export class CommandIntake {
  private readonly inflight = new Map<string, Promise<AckMessage>>();
  private readonly routers: Map<string, RouterConfig>;
  private readonly scheduler: RouterScheduler;
  private readonly gatherer: ReconcileGatherer;
  private readonly highWater: number;
  private backlogHigh = false;
  private accepting = true;

  constructor(private readonly options: IntakeOptions) {
    this.routers = new Map(options.routers.map((r) => [r.name, r]));
    this.scheduler = new RouterScheduler(options.concurrencyPerRouter ?? 256);
    this.gatherer = new ReconcileGatherer(options.reconcileStaleMs ?? 10 * 60_000);
    this.highWater = options.highWater ?? 4096;
  }

  /** Commands accepted and not yet finished. */
  get pending(): number {
    return this.inflight.size;
  }

  /** Resolves once every command in hand has finished and its outcome is on disk. */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight.values()]);
    await this.options.journal.flush();
  }

  /** Stops taking frames (on shutdown); they stay unacknowledged and come again. */
  stopAccepting(): void {
    this.accepting = false;
  }

  /**
   * After a restart: rebuilds the reconciles still gathering and re-runs every command that was
   * accepted but never finished (each apply is idempotent). Their acks wait in the outbox.
   */
  resumeUnfinished(): number {
    const { journal, logger } = this.options;
    for (const chunk of journal.openChunks()) {
      const restored = this.gatherer.add(chunk.envelope, Date.parse(chunk.acceptedAt));
      // Every chunk of the set had finished: the reconcile ran, only its closing record was lost.
      if (restored.kind !== 'buffered') void journal.closeReconcile(chunk.envelope.payload.reconcileId);
    }
    const unfinished = journal.unfinished();
    for (const envelope of unfinished) {
      logger.info(
        { commandId: envelope.id, ...jobOf(envelope.id, envelope), seq: envelope.seq, type: envelope.type, routerName: envelope.payload.router },
        're-running a command accepted before a restart',
      );
      this.track(envelope, Promise.resolve());
    }
    return unfinished.length;
  }

  /** Drops reconciles whose chunks stopped coming; returns their ids. */
  async sweepStaleReconciles(): Promise<string[]> {
    const stale = this.gatherer.sweep();
    for (const reconcileId of stale) {
      const message = `dropped reconcile ${reconcileId}: its remaining chunks never came`;
      this.options.logger.warn({ reconcileId }, message);
      this.options.send({ type: 'log', agentId: this.options.agentId, level: 'warn', message, at: this.now().toISOString() });
      await this.options.journal.closeReconcile(reconcileId);
    }
    return stale;
  }

  /** Takes one text frame from the controller. */
  handleFrame(text: string): void {
    if (!this.accepting) return;
    const { logger } = this.options;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      logger.warn({ bytes: text.length }, 'ignoring a controller frame that is not JSON');
      return;
    }
    if ((raw as { kind?: unknown } | null)?.kind === 'commands') return this.handleBatch(raw);
    const frame = raw as { envelope?: { id?: unknown; agentId?: unknown }; sig?: unknown } | null;
    const id = typeof frame?.envelope?.id === 'string' ? frame.envelope.id : undefined;
    if (id !== undefined && this.answerRedelivery(id, frame!)) return;

    const opened = openCommandFrame(raw, {
      controllerKey: this.options.controllerKey,
      agentId: this.options.agentId,
      lastSeq: this.options.journal.lastSeq,
      now: this.now(),
    });
    this.take(opened);
  }

  /**
   * A batch frame (capability 4): one signature for all its envelopes, then each taken as a frame
   * of its own would be, in order (a redelivered id answered, the rest checked with the lastSeq of
   * that moment), so one batch behaves as its commands sent one after another.
   */
  private handleBatch(raw: unknown): void {
    const opened = openCommandBatch(raw, this.options.controllerKey);
    if (!opened.ok) {
      if (opened.refusals.length === 0) this.options.logger.warn({ reason: opened.reason, detail: opened.detail }, 'rejected a command batch frame');
      for (const refusal of opened.refusals) this.take(refusal);
      return;
    }
    for (const env of opened.envelopes) {
      // the batch's signature is this envelope's: a redelivered id of this agent is answered as a single frame's would be
      if (typeof env.id === 'string' && env.agentId === this.options.agentId && this.answerDuplicate(env.id)) continue;
      this.take(checkEnvelope(env, { agentId: this.options.agentId, lastSeq: this.options.journal.lastSeq, now: this.now() }));
    }
  }

  /** Runs a command that passed every check, or acks why not (when it has a readable id). */
  private take(opened: OpenResult): void {
    if (!opened.ok) {
      this.options.logger.warn(
        { commandId: opened.id, ...jobOf(opened.id), seq: opened.seq, reason: opened.reason, detail: opened.detail },
        'rejected a command frame',
      );
      if (opened.id && opened.id.length <= 64) {
        const seq = Number.isSafeInteger(opened.seq) && opened.seq! >= 0 ? opened.seq! : 0;
        this.options.send(this.ack(opened.id, seq, 'rejected', { error: { code: opened.reason, message: clip(opened.detail, 2000), retryable: false } }, 0));
      }
      return;
    }
    const envelope = opened.envelope;
    this.track(envelope, this.options.journal.accept(envelope, this.now()));
  }

  /** A redelivered id: answered from the journal, or when it finishes. True when handled. */
  private answerRedelivery(id: string, frame: { envelope?: { agentId?: unknown }; sig?: unknown }): boolean {
    if (!this.options.journal.finishedAck(id) && !this.inflight.has(id)) return false;
    // Only the very envelope it accepted earns a duplicate; anything else is judged afresh (and refused).
    if (
      typeof frame.sig !== 'string' ||
      frame.envelope?.agentId !== this.options.agentId ||
      !verifyEnvelope(frame.envelope, frame.sig, this.options.controllerKey)
    )
      return false;
    return this.answerDuplicate(id);
  }

  /** Answers an id already accepted (its signature checked): from the journal, or when it finishes. True when it was. */
  private answerDuplicate(id: string): boolean {
    const finished = this.options.journal.finishedAck(id);
    const running = finished ? undefined : this.inflight.get(id);
    if (!finished && !running) return false;
    this.options.logger.info({ commandId: id, running: !finished }, 'redelivered command answered as duplicate');
    const answer = (ack: AckMessage): void => this.options.send({ ...ack, status: 'duplicate', at: this.now().toISOString() });
    if (finished) answer(finished);
    else void running!.then(answer);
    return true;
  }

  /** Runs an accepted command once its journal record is durable, then journals and acks its outcome. */
  private track(envelope: TypedEnvelope, durable: Promise<void>): void {
    const started = Date.now();
    const log = lazyChild(this.options.logger, () => ({
      commandId: envelope.id,
      ...jobOf(envelope.id, envelope),
      seq: envelope.seq,
      type: envelope.type,
      routerName: envelope.payload.router,
      ...subjectOf(envelope),
    }));
    const run = durable
      .then(
        () => this.execute(envelope, log),
        (err: unknown): Outcome => ({
          status: 'failed',
          error: { code: 'agent-storage', message: `could not journal the command: ${(err as Error).message}`, retryable: true },
        }),
      )
      .catch((err: unknown): Outcome => ({ status: 'failed', error: describeFailure(err) }));
    const acked = run.then(async (outcome) => {
      const ack = { ...this.ack(envelope.id, envelope.seq, outcome.status, outcome, Date.now() - started), ...(envelope.job ? { job: envelope.job } : {}) };
      if (outcome.status === 'failed') log.warn({ status: ack.status, durationMs: ack.durationMs, error: ack.error }, 'command failed');
      else log.info({ status: ack.status, durationMs: ack.durationMs, changes: ack.result?.changes.length }, 'command applied');
      await this.options.journal
        .finish(envelope.id, ack)
        .catch((err: unknown) => log.error({ err }, 'could not journal the outcome; the command will run again after a restart'));
      if (outcome.closes !== undefined)
        await this.options.journal.closeReconcile(outcome.closes).catch((err: unknown) => log.error({ err }, 'could not journal the end of a reconcile'));
      this.options.send(ack);
      return ack;
    });
    this.inflight.set(envelope.id, acked);
    this.checkBacklog();
    void acked.finally(() => {
      this.inflight.delete(envelope.id);
      this.checkBacklog();
    });
  }

  private async execute(envelope: TypedEnvelope, log: LineLogger): Promise<Outcome> {
    const router = this.routers.get(envelope.payload.router);
    if (envelope.type === 'router.reconcile') return this.gather(envelope as TypedEnvelope<'router.reconcile'>, router, log);
    if (!router) return this.unknownRouter(envelope);
    return this.runOnRouter(router, envelope, orderingOf(envelope), log);
  }

  private unknownRouter(envelope: TypedEnvelope): Outcome {
    const known = [...this.routers.keys()].join(', ') || 'none';
    return {
      status: 'failed',
      error: {
        code: 'unknown-router',
        message: `router "${envelope.payload.router}" is not in this agent's config (known: ${clip(known, 1000)})`,
        retryable: false,
      },
    };
  }

  private async runOnRouter(router: RouterConfig, envelope: TypedEnvelope, ordering: Ordering, log: LineLogger): Promise<Outcome> {
    try {
      const result = await this.scheduler.run(router.name, ordering, () => {
        log.debug('applying');
        return this.options.executor(router, envelope);
      });
      const fitted = fitResult(result, log);
      return fitted.error ? { status: 'failed', error: fitted.error } : { status: 'applied', result: fitted.result! };
    } catch (err) {
      // A reconcile that wrote part of what it had to says what it did (ReconcileError.result).
      const partial = ApplyResult.safeParse((err as { result?: unknown } | null)?.result);
      const result = partial.success ? fitResult(partial.data, log).result : undefined;
      return { status: 'failed', error: describeFailure(err), ...(result ? { result } : {}) };
    }
  }

  private async gather(envelope: TypedEnvelope<'router.reconcile'>, router: RouterConfig | undefined, log: LineLogger): Promise<Outcome> {
    const { reconcileId } = envelope.payload;
    const gathered = this.gatherer.add(envelope);
    switch (gathered.kind) {
      case 'buffered':
        log.info({ reconcileId, buffered: gathered.buffered, count: gathered.count }, 'reconcile chunk buffered');
        return { status: 'applied', result: { changes: [], summary: { buffered: gathered.buffered } } };
      case 'mismatch':
        return { status: 'failed', error: { code: 'reconcile-mismatch', message: gathered.message, retryable: false } };
      case 'incomplete':
        return {
          status: 'failed',
          closes: reconcileId,
          error: {
            code: 'reconcile-incomplete',
            message: `reconcile ${reconcileId} is missing chunks ${gathered.missing.join(', ')} (dropped or timed out); send it again`,
            retryable: false,
          },
        };
      case 'complete': {
        const { merged } = gathered;
        log.info(
          { reconcileId, chunks: gathered.chunkIds.length, plans: merged.payload.plans.length, customers: merged.payload.customers.length },
          'reconciling router',
        );
        const outcome = router ? await this.runOnRouter(router, merged, 'barrier', log) : this.unknownRouter(envelope);
        return { ...outcome, closes: reconcileId };
      }
    }
  }

  private ack(commandId: string, seq: number, status: AckMessage['status'], body: { result?: ApplyResult; error?: AckError }, durationMs: number): AckMessage {
    return {
      type: 'ack',
      agentId: this.options.agentId,
      commandId,
      seq,
      status,
      ...(body.result ? { result: body.result } : {}),
      ...(body.error ? { error: body.error } : {}),
      durationMs: Math.max(0, Math.round(durationMs)),
      at: this.now().toISOString(),
    };
  }

  private checkBacklog(): void {
    const high = this.backlogHigh ? this.inflight.size > this.highWater / 2 : this.inflight.size >= this.highWater;
    if (high !== this.backlogHigh) {
      this.backlogHigh = high;
      this.options.onBacklog?.(high);
    }
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }
}
