import { constants } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { AckMessage, CommandEnvelope, parsePayload, type TypedEnvelope } from '@mtandao/protocol';
import type { Logger } from '../logger.ts';
import { FILE_MODE, writeFileAtomic } from './files.ts';
import { STATE_FILES } from './identity.ts';

/*
 * The command journal: one JSON object per line in `<stateDir>/journal.log`, appended and fsynced.
 *
 *   {"t":"meta","v":1,"lastSeq":41,"at":"…"}                  first line after a compaction
 *   {"t":"accept","id":"…","seq":42,"at":"…","envelope":{…}}  written before the command runs
 *   {"t":"done","id":"…","seq":42,"ack":{…}}                   its outcome, the ack as sent
 *   {"t":"closed","reconcileId":"…","at":"…"}                  a chunked reconcile ran or was dropped
 *
 * Reading it back gives the highest accepted seq, the acks of finished ids (answers to
 * redeliveries), the accepted commands that never finished (re-run at start) and the buffered
 * chunks of reconciles still waiting for their last chunk. A truncated last line (killed mid-write)
 * is skipped. The file is rewritten atomically at start and whenever it has grown enough, keeping
 * the last `keepFinished` finished ids.
 */

const RecordSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('meta'), v: z.literal(1), lastSeq: z.number().int().min(0) }),
  z.object({ t: z.literal('accept'), id: z.string(), seq: z.number().int(), at: z.string(), envelope: z.record(z.string(), z.unknown()) }),
  z.object({ t: z.literal('done'), id: z.string(), seq: z.number().int(), ack: AckMessage }),
  z.object({ t: z.literal('closed'), reconcileId: z.string() }),
]);

type JournalRecord =
  | { t: 'meta'; v: 1; lastSeq: number; at?: string }
  | { t: 'accept'; id: string; seq: number; at: string; envelope: TypedEnvelope }
  | { t: 'done'; id: string; seq: number; ack: AckMessage }
  | { t: 'closed'; reconcileId: string; at?: string };

/** A buffered chunk of a reconcile whose last chunk has not come yet. */
export interface OpenChunk {
  envelope: TypedEnvelope<'router.reconcile'>;
  acceptedAt: string;
  /** Set once the chunk was acknowledged (`applied`, `{buffered: n}`). */
  ack?: AckMessage;
}

/** Tuning of the journal. */
export interface JournalOptions {
  logger: Logger;
  /** Finished ids kept for duplicate answers. */
  keepFinished?: number;
  /** Rewrite the file once this many records were appended since the last rewrite. */
  compactAfterRecords?: number;
  /** … or once this many bytes were. */
  compactAfterBytes?: number;
}

interface Pending {
  line: string;
  /** A command's outcome (its ack waits for this write). */
  outcome: boolean;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * How the journal is opened for appending: O_DSYNC where the platform has it (Linux, the BSDs,
 * macOS), so each write returns once its data is on disk, as write + fdatasync did, in one system
 * call and one trip through libuv's thread pool instead of two. Elsewhere: 'a', and a datasync after
 * each write.
 */
export const JOURNAL_APPEND_FLAGS: number | 'a' = constants.O_DSYNC ? constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_DSYNC : 'a';

const reconcileIdOf = (envelope: TypedEnvelope): string | undefined =>
  envelope.type === 'router.reconcile' ? (envelope as TypedEnvelope<'router.reconcile'>).payload.reconcileId : undefined;

/** Re-checks an envelope read from disk (its payload parsed again, defaults filled). */
function reviveEnvelope(raw: Record<string, unknown>): TypedEnvelope | undefined {
  const env = CommandEnvelope.safeParse(raw);
  if (!env.success) return undefined;
  const payload = parsePayload(env.data.type, env.data.payload);
  return payload.success ? ({ ...env.data, payload: payload.data } as TypedEnvelope) : undefined;
}

/** The durable record of every command this agent accepted, and what became of it. */
export class CommandJournal {
  readonly path: string;
  private lastSeqValue = 0;
  /** Accepted, not finished, by id. */
  private readonly accepted = new Map<string, { envelope: TypedEnvelope; at: string }>();
  /** Finished ids and their acks, oldest first. */
  private readonly finished = new Map<string, AckMessage>();
  /** Chunks of reconciles still gathering, by reconcileId then command id. */
  private readonly chunks = new Map<string, Map<string, OpenChunk>>();
  private readonly keepFinished: number;
  private readonly compactAfterRecords: number;
  private readonly compactAfterBytes: number;
  private readonly logger: Logger;
  private handle: FileHandle | undefined;
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private recordsSinceCompact = 0;
  private outcomesLanding: Promise<void> | undefined;
  private bytesSinceCompact = 0;

  private constructor(stateDir: string, options: JournalOptions) {
    this.path = join(stateDir, STATE_FILES.journal);
    this.logger = options.logger;
    this.keepFinished = options.keepFinished ?? 10_000;
    this.compactAfterRecords = options.compactAfterRecords ?? Math.max(1000, this.keepFinished * 2);
    this.compactAfterBytes = options.compactAfterBytes ?? 64 * 1024 * 1024;
  }

  /** Reads the journal (tolerating a torn last line), rewrites it clean and opens it for appending. */
  static async open(stateDir: string, options: JournalOptions): Promise<CommandJournal> {
    const journal = new CommandJournal(stateDir, options);
    await journal.load();
    await writeFileAtomic(journal.path, journal.snapshot());
    journal.handle = await open(journal.path, JOURNAL_APPEND_FLAGS, FILE_MODE);
    return journal;
  }

  /** Highest seq ever accepted: anything at or below is a replay. */
  get lastSeq(): number {
    return this.lastSeqValue;
  }

  /** The ack of a finished id, if it is still remembered. */
  finishedAck(id: string): AckMessage | undefined {
    return this.finished.get(id);
  }

  /** Accepted commands that never finished, in seq order (re-run them). */
  unfinished(): TypedEnvelope[] {
    return [...this.accepted.values()].map((a) => a.envelope).sort((a, b) => a.seq - b.seq);
  }

  /** Finished chunks of reconciles still waiting for their last chunk. */
  openChunks(): OpenChunk[] {
    return [...this.chunks.values()].flatMap((set) => [...set.values()]).filter((c) => c.ack !== undefined);
  }

  /** Records an accepted command; `lastSeq` rises at once, the promise settles once it is on disk. */
  accept(envelope: TypedEnvelope, at = new Date()): Promise<void> {
    const record: JournalRecord = { t: 'accept', id: envelope.id, seq: envelope.seq, at: at.toISOString(), envelope };
    this.apply(record);
    return this.append(record);
  }

  /** Records the outcome of an accepted command. */
  finish(id: string, ack: AckMessage): Promise<void> {
    const record: JournalRecord = { t: 'done', id, seq: ack.seq, ack };
    this.apply(record);
    return this.append(record);
  }

  /** Records that a chunked reconcile ran or was dropped: its chunks need no keeping. */
  closeReconcile(reconcileId: string): Promise<void> {
    const record: JournalRecord = { t: 'closed', reconcileId, at: new Date().toISOString() };
    this.apply(record);
    return this.append(record);
  }

  /**
   * While a write carrying commands' outcomes is in flight: settles once it has landed and their
   * `finish` promises have settled (failed or not). Undefined when no such write is in flight.
   */
  get outcomesInFlight(): Promise<void> | undefined {
    return this.outcomesLanding;
  }

  /** Waits until everything appended so far is on disk. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    await this.flush();
    await this.handle?.close();
    this.handle = undefined;
  }

  private apply(record: JournalRecord): void {
    switch (record.t) {
      case 'meta':
        this.lastSeqValue = Math.max(this.lastSeqValue, record.lastSeq);
        return;
      case 'accept': {
        this.lastSeqValue = Math.max(this.lastSeqValue, record.seq);
        if (this.finished.has(record.id)) return;
        this.accepted.set(record.id, { envelope: record.envelope, at: record.at });
        const reconcileId = reconcileIdOf(record.envelope);
        if (reconcileId !== undefined) {
          const set = this.chunks.get(reconcileId) ?? new Map<string, OpenChunk>();
          set.set(record.id, { envelope: record.envelope as TypedEnvelope<'router.reconcile'>, acceptedAt: record.at });
          this.chunks.set(reconcileId, set);
        }
        return;
      }
      case 'done': {
        const accepted = this.accepted.get(record.id);
        this.accepted.delete(record.id);
        this.finished.delete(record.id);
        this.finished.set(record.id, record.ack);
        if (this.finished.size > this.keepFinished) this.finished.delete(this.finished.keys().next().value as string);
        const reconcileId = accepted && reconcileIdOf(accepted.envelope);
        const chunk = reconcileId !== undefined ? this.chunks.get(reconcileId)?.get(record.id) : undefined;
        if (chunk) chunk.ack = record.ack;
        return;
      }
      case 'closed':
        this.chunks.delete(record.reconcileId);
        return;
    }
  }

  private async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new Error(`reading the command journal ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    const lines = text.split('\n');
    lines.forEach((line, index) => {
      if (line.trim() === '') return;
      const record = this.parseLine(line);
      if (record) return this.apply(record);
      // The last line without its newline is a write the agent was killed in the middle of.
      const torn = index === lines.length - 1;
      this.logger[torn ? 'info' : 'warn'](
        { journal: this.path, line: index + 1 },
        torn ? 'ignoring a torn last journal line' : 'skipping a damaged journal line',
      );
    });
    this.logger.info({ lastSeq: this.lastSeqValue, finished: this.finished.size, unfinished: this.accepted.size }, 'command journal loaded');
  }

  private parseLine(line: string): JournalRecord | undefined {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      return undefined;
    }
    const parsed = RecordSchema.safeParse(json);
    if (!parsed.success) return undefined;
    const record = parsed.data;
    if (record.t !== 'accept') return record;
    const envelope = reviveEnvelope(record.envelope);
    return envelope && { ...record, envelope };
  }

  /** The whole live state as journal lines: what a compaction writes. */
  private snapshot(): string {
    const lines: string[] = [JSON.stringify({ t: 'meta', v: 1, lastSeq: this.lastSeqValue, at: new Date().toISOString() })];
    const written = new Set<string>();
    const write = (record: JournalRecord, id: string): void => {
      lines.push(JSON.stringify(record));
      written.add(id);
    };
    for (const set of this.chunks.values()) {
      for (const [id, chunk] of set) {
        write({ t: 'accept', id, seq: chunk.envelope.seq, at: chunk.acceptedAt, envelope: chunk.envelope }, id);
        if (chunk.ack) lines.push(JSON.stringify({ t: 'done', id, seq: chunk.ack.seq, ack: chunk.ack }));
      }
    }
    for (const [id, { envelope, at }] of this.accepted) if (!written.has(id)) write({ t: 'accept', id, seq: envelope.seq, at, envelope }, id);
    for (const [id, ack] of this.finished) if (!written.has(id)) lines.push(JSON.stringify({ t: 'done', id, seq: ack.seq, ack }));
    return `${lines.join('\n')}\n`;
  }

  private append(record: JournalRecord): Promise<void> {
    const line = `${JSON.stringify(record)}\n`;
    return new Promise((resolve, reject) => {
      this.queue.push({ line, outcome: record.t === 'done', resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.flushing) return;
    // The first write waits for the end of this turn of the event loop: the frames of one read
    // from the controller (or the replies of one read from a router) are appended in the same turn,
    // and go out as one durable write instead of the first alone and the rest behind it.
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.flushLoop())
      .finally(() => {
        this.flushing = undefined;
        // Records queued by the continuations of the last batch, after the loop looked.
        if (this.queue.length > 0) this.kick();
      });
  }

  /**
   * Group commit: whatever queued while the previous durable write ran goes out as one durable
   * write (O_DSYNC, or write + fdatasync). A compaction takes the place of a batch: the snapshot already holds those records.
   */
  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      let landed: (() => void) | undefined;
      if (batch.some((p) => p.outcome)) this.outcomesLanding = new Promise<void>((resolve) => (landed = resolve));
      try {
        if (!this.handle) throw new Error('the command journal is closed');
        if (this.recordsSinceCompact >= this.compactAfterRecords || this.bytesSinceCompact >= this.compactAfterBytes) {
          await this.compact();
        } else {
          const data = batch.map((p) => p.line).join('');
          await this.handle.write(data);
          if (JOURNAL_APPEND_FLAGS === 'a') await this.handle.datasync();
          this.recordsSinceCompact += batch.length;
          this.bytesSinceCompact += Buffer.byteLength(data);
        }
        for (const p of batch) p.resolve();
      } catch (err) {
        const error = new Error(`writing the command journal ${this.path}: ${(err as Error).message}`, { cause: err });
        this.logger.error({ err: error }, 'command journal write failed');
        for (const p of batch) p.reject(error);
      } finally {
        if (landed) {
          this.outcomesLanding = undefined;
          landed();
        }
      }
    }
  }

  private async compact(): Promise<void> {
    const started = Date.now();
    await this.handle?.close();
    this.handle = undefined;
    try {
      await writeFileAtomic(this.path, this.snapshot());
    } finally {
      this.handle = await open(this.path, JOURNAL_APPEND_FLAGS, FILE_MODE);
    }
    this.recordsSinceCompact = 0;
    this.bytesSinceCompact = 0;
    this.logger.info({ finished: this.finished.size, unfinished: this.accepted.size, ms: Date.now() - started }, 'command journal compacted');
  }
}
