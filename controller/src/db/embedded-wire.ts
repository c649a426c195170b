// The PostgreSQL wire protocol served straight from PGlite to authenticated sockets (replaces
// pglite-socket behind a proxy: every byte used to cross loopback TCP to the password front, then
// a Unix socket to pglite-socket, and pglite-socket ran each message — Parse, Bind, Describe,
// Execute, Sync — as its own call into PGlite behind a promise queue, with a socket write per
// answer). Here what a connection sent is run as one call and answered with one write.
//
// PGlite is one backend. A connection holds it from the first message of an extended-protocol
// sequence until its Sync, and for as long as its transaction is open: the unnamed statement
// and portal of one client are never interleaved with another's, nor are its transaction's
// statements. A connection that closes while holding it has its transaction rolled back.
import type { Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import { closeStatements, freshStatementState, StatementKeeper, type StatementState } from './embedded-statements.ts';

const SYNC = 0x53; // 'S'
const QUERY = 0x51; // 'Q'
const TERMINATE = 0x58; // 'X'

/** ErrorResponse with severity FATAL. */
export function fatalMessage(code: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`);
  const head = Buffer.alloc(5);
  head.write('E', 0);
  head.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([head, fields]);
}

interface Connection {
  readonly id: number;
  readonly socket: Socket;
  /** The startup message, run before anything else of this connection. */
  startup: Buffer | undefined;
  /** Complete messages not run yet, in order. */
  pending: Buffer[];
  /** Bytes of an incomplete message. */
  partial: Buffer | undefined;
  /** Waiting in the queue of connections with something to run. */
  queued: boolean;
  /** Sent messages of an extended-protocol sequence and not yet its Sync. */
  midSequence: boolean;
  /** Terminate received or the socket closed: nothing more is run for it. */
  closed: boolean;
  statements: StatementState;
}

/** Serves PGlite over the wire protocol to sockets whose client has been authenticated. */
export class PgliteWire {
  private readonly connections = new Set<Connection>();
  /** Connections with something to run, in arrival order. */
  private readonly ready: Connection[] = [];
  /** The connection holding the backend (mid-sequence or in a transaction). */
  private owner: Connection | undefined;
  private readonly statements = new StatementKeeper();
  private draining: Promise<void> | undefined;
  private stopped = false;
  private nextId = 1;
  private out: Buffer = Buffer.allocUnsafe(64 * 1024);
  private outLength = 0;
  private readonly collect = (bytes: Uint8Array): void => {
    // a view into PGlite's memory, valid only during this call: copied
    if (this.outLength + bytes.length > this.out.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.outLength + bytes.length));
      this.out.copy(grown, 0, 0, this.outLength);
      this.out = grown;
    }
    this.out.set(bytes, this.outLength);
    this.outLength += bytes.length;
  };

  constructor(
    private readonly db: PGlite,
    private readonly maxConnections = 16,
  ) {}

  /** Connections attached and not yet closed. */
  get size(): number {
    return this.connections.size;
  }

  /**
   * Serves `socket`, whose client has already proven who it is: `startup` is its startup message
   * and `rest` what it sent after its password.
   */
  attach(socket: Socket, startup: Buffer, rest: Buffer): void {
    if (this.connections.size >= this.maxConnections) {
      socket.end(fatalMessage('53300', 'sorry, too many clients already'));
      return;
    }
    const conn: Connection = {
      id: this.nextId++,
      socket,
      startup,
      pending: [],
      partial: undefined,
      queued: false,
      midSequence: false,
      closed: false,
      statements: freshStatementState(),
    };
    this.connections.add(conn);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(conn, chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.close(conn));
    this.enqueue(conn);
    if (rest.length > 0) this.receive(conn, rest);
    else this.pump();
  }

  /** Stops serving: closes every connection, rolls back a transaction left open. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.draining;
    for (const conn of this.connections) conn.socket.destroy();
    this.connections.clear();
    if (this.db.isInTransaction()) await this.exec(queryMessage('ROLLBACK'));
  }

  private receive(conn: Connection, chunk: Buffer): void {
    if (conn.closed) return;
    const buf = conn.partial ? Buffer.concat([conn.partial, chunk]) : chunk;
    conn.partial = undefined;
    let end = 0;
    let terminate = false;
    while (buf.length - end >= 5) {
      const len = buf.readInt32BE(end + 1);
      if (len < 4) {
        conn.socket.destroy();
        return;
      }
      if (buf.length - end < len + 1) break;
      if (buf[end] === TERMINATE) {
        terminate = true;
        break;
      }
      end += len + 1;
    }
    if (end > 0) conn.pending.push(end === buf.length ? buf : buf.subarray(0, end));
    if (!terminate && end < buf.length) conn.partial = Buffer.from(buf.subarray(end));
    if (conn.pending.length > 0) this.enqueue(conn);
    if (terminate) {
      // what came before Terminate still runs; the socket ends once it has
      conn.closed = true;
      this.enqueue(conn);
    }
    this.pump();
  }

  private enqueue(conn: Connection): void {
    if (conn !== this.owner && !conn.queued) {
      conn.queued = true;
      this.ready.push(conn);
    }
  }

  private close(conn: Connection): void {
    if (!this.connections.has(conn)) return; // ended after its Terminate
    conn.closed = true;
    conn.pending = [];
    conn.partial = undefined;
    this.connections.delete(conn);
    this.enqueue(conn); // to release the backend if it holds it
    this.pump();
  }

  /** Runs what connections sent, one connection's batch at a time, until nothing can run. */
  private pump(): void {
    if (this.draining || this.stopped) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    while (!this.stopped) {
      let conn: Connection | undefined;
      if (this.owner) {
        conn = this.owner;
        if (conn.pending.length === 0 && !conn.closed && !conn.startup) return; // the backend waits for its holder
      } else {
        // kept statements are closed while no sequence is in progress
        const retired = this.statements.takeRetired();
        if (retired.length > 0) await this.exec(closeStatements(retired));
        conn = this.ready.shift();
        if (!conn) return;
        conn.queued = false;
      }
      try {
        await this.runBatch(conn);
      } catch (err) {
        // PGlite itself failed (not an SQL error: those are answers): this client cannot go on
        if (this.owner === conn) this.owner = undefined;
        this.connections.delete(conn);
        conn.closed = true;
        conn.socket.end(fatalMessage('XX000', `the embedded database failed: ${(err as Error).message}`));
      }
    }
  }

  private async runBatch(conn: Connection): Promise<void> {
    if (conn.startup) {
      const startup = conn.startup;
      conn.startup = undefined;
      if (!conn.closed) await this.run(conn, startup);
      if (conn.pending.length > 0 || conn.closed) this.enqueue(conn);
      return;
    }
    if (conn.pending.length > 0) {
      const batch = conn.pending.length === 1 ? conn.pending[0]! : Buffer.concat(conn.pending);
      conn.pending = [];
      conn.midSequence = !endsSequence(batch);
      const answers = await this.statements.run(conn.statements, batch, (messages) => this.exec(messages));
      if (answers.length > 0 && !conn.socket.destroyed) conn.socket.write(answers.length === 1 ? answers[0]! : Buffer.concat(answers));
    }
    if (conn.closed) {
      if (this.holds(conn)) await this.release(conn);
      if (this.connections.has(conn)) {
        this.connections.delete(conn);
        conn.socket.end();
      }
      this.owner = undefined;
      return;
    }
    this.owner = this.holds(conn) ? conn : undefined;
  }

  private holds(conn: Connection): boolean {
    return conn.midSequence || this.db.isInTransaction();
  }

  /** Ends what a closed connection left open: its extended-protocol sequence and its transaction. */
  private async release(conn: Connection): Promise<void> {
    const sync = Buffer.from([SYNC, 0, 0, 0, 4]);
    const rollback = queryMessage('ROLLBACK');
    await this.exec(conn.midSequence ? Buffer.concat([sync, rollback]) : rollback);
    conn.midSequence = false;
  }

  private async run(conn: Connection, message: Buffer): Promise<void> {
    const answer = await this.exec(message);
    if (answer.length > 0 && !conn.socket.destroyed) conn.socket.write(answer);
  }

  private async exec(message: Buffer): Promise<Buffer> {
    this.outLength = 0;
    // syncToFs: a no-op on the node and memory filesystems this process uses
    await this.db.execProtocolRawStream(message, { syncToFs: false, onRawData: this.collect });
    return Buffer.from(this.out.subarray(0, this.outLength));
  }
}

/** Whether the last message of `batch` (complete messages) ends a sequence: a Sync or a simple Query. */
function endsSequence(batch: Buffer): boolean {
  let at = 0;
  let last = 0;
  while (at < batch.length) {
    last = batch[at]!;
    at += 1 + batch.readInt32BE(at + 1);
  }
  return last === SYNC || last === QUERY;
}

function queryMessage(sql: string): Buffer {
  const text = Buffer.from(`${sql}\0`);
  const head = Buffer.alloc(5);
  head[0] = QUERY;
  head.writeInt32BE(text.length + 4, 1);
  return Buffer.concat([head, text]);
}
