// Plans kept for the statements clients send unnamed. PGlite is one backend shared by every
// connection, so Mtandao does not name its prepared statements there (a name outlives the
// connection that made it) and PostgreSQL parsed, analysed and planned each hot statement on
// every call: close to half the database's CPU per customer added. The wire keeps them for it:
// the second time a connection sends Parse for a text (with the same parameter types), it is
// prepared under a name of the server's own; from then on that Parse is answered here
// (ParseComplete) and the Bind/Describe that refer to the unnamed statement are pointed at the
// kept one. PostgreSQL re-plans a kept statement when a table it reads changes; a schema change
// that could change a kept statement's result columns (ALTER, DROP, CREATE, DO) drops them all.
//
// A Parse that follows an error of the same sequence is discarded by PostgreSQL until the Sync,
// so it is answered here only when nothing before it failed: the batch is run in parts, split at
// each such Parse, and the answers seen so far tell whether the sequence is failing.

const PARSE = 0x50; // 'P'
const BIND = 0x42; // 'B'
const DESCRIBE = 0x44; // 'D'
const CLOSE = 0x43; // 'C'
const SYNC = 0x53; // 'S'
const ERROR = 0x45; // 'E'
const READY = 0x5a; // 'Z'
const COMPLETE = 0x43; // 'C' (CommandComplete, from the server)
const PARSE_COMPLETE = Buffer.from([0x31, 0, 0, 0, 4]);
/** Command tags after which kept statements may no longer answer with the same columns. */
const SCHEMA_CHANGE = /^(ALTER|DROP|CREATE|DO|COMMENT|GRANT|REVOKE|IMPORT)\b/;

/** What the statement keeper knows of one connection. */
export interface StatementState {
  /** The kept statement the connection's unnamed statement stands for, if any. */
  unnamed: string | undefined;
  /** An error was answered in the current sequence (PostgreSQL ignores messages until Sync). */
  failing: boolean;
}

export const freshStatementState = (): StatementState => ({ unnamed: undefined, failing: false });

/** Runs messages on PGlite and returns its answer. */
type Exec = (messages: Buffer) => Promise<Buffer>;

export class StatementKeeper {
  /** Parse bodies (text and parameter types) to the name they are kept under, least recently used first. */
  private readonly kept = new Map<string, string>();
  /** How often a Parse body was seen, for those not kept yet. */
  private seen = new Map<string, number>();
  /** Names to close once no sequence is running. */
  private retired: string[] = [];
  private next = 1;

  constructor(
    private readonly max = 256,
    private readonly seenMax = 4096,
  ) {}

  /** Kept statements. */
  get size(): number {
    return this.kept.size;
  }

  /** Runs `batch` (complete messages) for a connection; returns the answers in order. */
  async run(state: StatementState, batch: Buffer, exec: Exec): Promise<Buffer[]> {
    const out: Buffer[] = [];
    let pieces: Buffer[] = [];
    let start = 0; // of the messages not yet in `pieces`
    const flush = async (until: number) => {
      if (until > start) pieces.push(batch.subarray(start, until));
      if (pieces.length === 0) return;
      const answer = await exec(pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces));
      pieces = [];
      this.observe(state, answer);
      out.push(answer);
    };
    let at = 0;
    while (at < batch.length) {
      const type = batch[at]!;
      const end = at + 1 + batch.readInt32BE(at + 1);
      if (type === PARSE && batch[at + 5] === 0) {
        const body = batch.toString('latin1', at + 6, end);
        const name = this.kept.get(body);
        if (name !== undefined) {
          await flush(at);
          if (!state.failing) out.push(PARSE_COMPLETE);
          this.kept.delete(body);
          this.kept.set(body, name);
          state.unnamed = name;
          start = end;
        } else {
          state.unnamed = undefined;
          const seen = (this.seen.get(body) ?? 0) + 1;
          if (this.seen.size >= this.seenMax) this.seen = new Map();
          this.seen.set(body, seen);
          if (seen >= 2) {
            await flush(at);
            start = end;
            if (state.failing) pieces.push(batch.subarray(at, end));
            else await this.keep(state, body, batch.subarray(at + 6, end), exec, out);
          }
        }
      } else if (state.unnamed !== undefined && (type === BIND || type === DESCRIBE || type === CLOSE)) {
        const rewritten = this.pointAtKept(state, batch.subarray(at, end));
        if (rewritten) {
          if (at > start) pieces.push(batch.subarray(start, at));
          pieces.push(rewritten);
          start = end;
        }
      }
      at = end;
    }
    await flush(batch.length);
    return out;
  }

  /** Names of kept statements to close (all of them after a schema change), handed over once. */
  takeRetired(): string[] {
    const names = this.retired;
    this.retired = [];
    return names;
  }

  /** Prepares `body` under a name of its own; keeps it if PostgreSQL accepted it. */
  private async keep(state: StatementState, body: string, rest: Buffer, exec: Exec, out: Buffer[]): Promise<void> {
    const name = `mtandao_kept_${this.next++}`;
    const parse = message(PARSE, Buffer.concat([Buffer.from(`${name}\0`), rest]));
    const answer = await exec(parse);
    out.push(answer);
    this.observe(state, answer);
    if (answer.equals(PARSE_COMPLETE)) {
      this.seen.delete(body);
      this.kept.set(body, name);
      state.unnamed = name;
      if (this.kept.size > this.max) {
        const [oldest, oldName] = this.kept.entries().next().value as [string, string];
        this.kept.delete(oldest);
        this.retired.push(oldName);
      }
    }
  }

  /** Bind, Describe or Close of the unnamed statement, pointed at the kept one (undefined: leave it). */
  private pointAtKept(state: StatementState, msg: Buffer): Buffer | undefined {
    const type = msg[0]!;
    if (type === BIND) {
      const portalEnd = msg.indexOf(0, 5);
      if (msg[portalEnd + 1] !== 0) return undefined; // a named statement
      return message(BIND, Buffer.concat([msg.subarray(5, portalEnd + 1), Buffer.from(state.unnamed!), msg.subarray(portalEnd + 1)]));
    }
    if (msg[5] !== 0x53 /* 'S' */ || msg[6] !== 0) return undefined; // a portal, or a named statement
    if (type === CLOSE) {
      // the client is done with its unnamed statement: the kept one stays
      state.unnamed = undefined;
      return undefined;
    }
    return message(DESCRIBE, Buffer.concat([Buffer.from(`S${state.unnamed!}\0`)]));
  }

  /** Follows the sequence's state through PostgreSQL's answers; retires every kept statement after a schema change. */
  private observe(state: StatementState, answer: Buffer): void {
    let at = 0;
    while (at + 5 <= answer.length) {
      const type = answer[at]!;
      const len = answer.readInt32BE(at + 1);
      if (type === ERROR) state.failing = true;
      else if (type === READY) state.failing = false;
      else if (type === COMPLETE && SCHEMA_CHANGE.test(answer.toString('latin1', at + 5, Math.min(at + 1 + len, at + 45)))) this.retireAll();
      at += 1 + len;
    }
  }

  private retireAll(): void {
    for (const name of this.kept.values()) this.retired.push(name);
    this.kept.clear();
    this.seen.clear();
  }
}

/** Close messages for `names` and a Sync, to run while no sequence is in progress. */
export function closeStatements(names: string[]): Buffer {
  return Buffer.concat([...names.map((n) => message(CLOSE, Buffer.from(`S${n}\0`))), message(SYNC, Buffer.alloc(0))]);
}

function message(type: number, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}
