/**
 * One API session with a router: a socket (TCP or TLS), the login, and every command in flight on
 * its own `.tag`. Written on the wire protocol directly rather than on node-routeros, whose
 * receive path cannot be made safe from outside (see ./client.ts): here a reply word nobody knows,
 * a reply for a tag nobody waits for, a socket error or an idle hour can never throw out of an
 * event handler, and every command in flight settles — with the router's answer, or with a
 * RouterError when the connection goes.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import type { Logger } from 'pino';
import { encodeWin1252, EncodingError } from '../encoding.ts';
import { RouterError } from '../types.ts';
import { encodeSentence, SentenceReader, splitAttribute, WireError } from './wire.ts';

/** What a command got back. */
export interface Reply {
  /** The `!re` sentences as attribute maps. */
  rows: Record<string, string>[];
  /** Attributes of `!done` (`ret` after an add). */
  done: Record<string, string>;
  /** RouterOS 7.18+ said `!empty`. */
  empty: boolean;
}

/** Where and how to connect. */
export interface ApiConnectionOptions {
  host: string;
  port: number;
  username: string;
  password: string;
  /** TLS options for api-ssl; absent for plain api. */
  tls?: ConnectionOptions;
  connectTimeoutMs: number;
  /** Login must finish within this. */
  loginTimeoutMs: number;
  logger?: Logger;
}

interface InFlight {
  rows: Record<string, string>[];
  empty: boolean;
  trap?: { message: string; category?: number };
  resolve: (reply: Reply) => void;
  reject: (error: RouterError) => void;
  timer?: NodeJS.Timeout;
  sentAt: number;
}

const attributes = (words: readonly string[]): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const w of words) {
    const a = splitAttribute(w);
    if (a) out[a[0]] = a[1];
  }
  return out;
};

/** Turns a failed socket into the category NOC needs: the router could not be reached. */
export function unreachable(message: string, cause?: unknown): RouterError {
  return new RouterError('unreachable', message, { cause, retryable: true });
}

/**
 * A logged-in API session. Emits `close` (with the RouterError that ended it) exactly once.
 */
export class ApiConnection extends EventEmitter {
  private readonly reader = new SentenceReader();
  private readonly inFlight = new Map<string, InFlight>();
  /** Tags we gave up on (timed out, cancelled): their late replies are dropped quietly. */
  private readonly abandoned = new Set<string>();
  private nextTag = 1;
  private closed: RouterError | undefined;
  private lastDataAt = 0;

  private constructor(
    private readonly socket: Socket,
    private readonly logger: Logger | undefined,
  ) {
    super();
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // An 'error' is always followed by 'close'; keeping a listener means it can never crash the process.
    socket.on('error', (e: Error) => this.fail(unreachable(`connection to router failed: ${e.message}`, e)));
    socket.on('close', () => this.fail(unreachable('connection to router closed')));
  }

  /** Connects and logs in. Rejects with `unreachable` or `login`. */
  static async open(options: ApiConnectionOptions): Promise<ApiConnection> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s: Socket = options.tls
        ? connectTls({ ...options.tls, host: options.host, port: options.port })
        : connectTcp({ host: options.host, port: options.port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(unreachable(`no connection to ${options.host}:${options.port} within ${options.connectTimeoutMs} ms`));
      }, options.connectTimeoutMs);
      s.once(options.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (e: Error) => {
        clearTimeout(timer);
        s.destroy();
        reject(unreachable(`cannot connect to ${options.host}:${options.port}: ${e.message}`, e));
      });
    });
    const conn = new ApiConnection(socket, options.logger);
    try {
      await conn.login(options.username, options.password, options.loginTimeoutMs);
    } catch (e) {
      conn.destroy();
      throw e;
    }
    return conn;
  }

  /** Whether the session can take commands. */
  get alive(): boolean {
    return this.closed === undefined;
  }

  /** Commands waiting for `!done`. */
  get pending(): number {
    return this.inFlight.size;
  }

  /**
   * Sends one command on a fresh tag. Settles with the reply, a `trap` RouterError (message and
   * category kept), or `unreachable` when the connection goes or `timeoutMs` passes first.
   */
  command(words: readonly string[], timeoutMs: number): Promise<Reply> {
    if (this.closed) return Promise.reject(this.closed);
    const tag = String(this.nextTag++);
    let bytes: Buffer;
    try {
      bytes = encodeSentence([...words.map((w) => encodeWin1252(w)), `.tag=${tag}`]);
    } catch (e) {
      const message = e instanceof EncodingError ? `refused to send ${words[0] ?? ''}: ${e.message}` : String(e);
      return Promise.reject(new RouterError('invalid', message, { cause: e, retryable: false }));
    }
    return new Promise<Reply>((resolve, reject) => {
      const entry: InFlight = { rows: [], empty: false, resolve, reject, sentAt: Date.now() };
      if (timeoutMs > 0) entry.timer = setTimeout(() => this.timeout(tag, entry, timeoutMs), timeoutMs);
      this.inFlight.set(tag, entry);
      this.writeSoon(bytes);
    });
  }

  private corked = false;

  /** Writes, gathering every command issued in the same turn into one TCP write (a pipelined round is one segment, one syscall). */
  private writeSoon(bytes: Buffer): void {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(bytes);
  }

  /** Closes the session; commands in flight reject with `unreachable`. */
  destroy(): void {
    this.fail(unreachable('connection closed by the agent'));
    this.socket.destroy();
  }

  private async login(username: string, password: string, timeoutMs: number): Promise<void> {
    try {
      const reply = await this.command(['/login', `=name=${username}`, `=password=${password}`], timeoutMs);
      const challenge = reply.done.ret;
      // Routers before 6.43 answer with an MD5 challenge instead of logging in.
      if (challenge !== undefined && /^[0-9a-f]{32}$/i.test(challenge)) {
        const digest = createHash('md5')
          .update(Buffer.concat([Buffer.from([0]), encodeWin1252(password), Buffer.from(challenge, 'hex')]))
          .digest('hex');
        await this.command(['/login', `=name=${username}`, `=response=00${digest}`], timeoutMs);
      }
    } catch (e) {
      if (e instanceof RouterError && e.category === 'trap') {
        throw new RouterError('login', `router refused the login of ${username}`, { routerMessage: e.routerMessage, cause: e, retryable: false });
      }
      throw e;
    }
  }

  private onData(chunk: Buffer): void {
    this.lastDataAt = Date.now();
    let sentences: string[][];
    try {
      sentences = this.reader.push(chunk);
    } catch (e) {
      this.fail(
        new RouterError('protocol', `router sent a broken API stream: ${e instanceof WireError ? e.message : String(e)}`, { cause: e, retryable: true }),
      );
      this.socket.destroy();
      return;
    }
    for (const s of sentences) this.onSentence(s);
  }

  private onSentence(words: string[]): void {
    const reply = words[0] ?? '';
    if (reply === '!fatal') {
      // `!fatal` carries its reason as a bare word and ends the session.
      const reason = words
        .slice(1)
        .filter((w) => !w.startsWith('.tag='))
        .join(' ');
      this.fail(new RouterError('protocol', `router ended the API session: ${reason}`, { routerMessage: reason, retryable: true }));
      this.socket.destroy();
      return;
    }
    const tagWord = words.find((w) => w.startsWith('.tag='));
    const tag = tagWord?.slice(5);
    const entry = tag === undefined ? undefined : this.inFlight.get(tag);
    if (!entry || tag === undefined) {
      if (tag !== undefined && this.abandoned.has(tag)) {
        if (reply === '!done') this.abandoned.delete(tag);
      } else this.logger?.warn({ reply, tag }, 'router reply for no command in flight ignored');
      return;
    }
    const attrs = attributes(words);
    switch (reply) {
      case '!re':
        entry.rows.push(attrs);
        return;
      case '!empty':
        // RouterOS 7.18+: the command has no data; !done follows.
        entry.empty = true;
        return;
      case '!trap':
        entry.trap ??= { message: attrs.message ?? 'unknown error', ...(attrs.category === undefined ? {} : { category: Number(attrs.category) }) };
        return;
      case '!done':
        this.settle(tag, entry);
        if (entry.trap) {
          const { message, category } = entry.trap;
          entry.reject(new RouterError('trap', message, { routerMessage: message, ...(category === undefined ? {} : { trapCategory: category }) }));
        } else entry.resolve({ rows: entry.rows, done: attrs, empty: entry.empty });
        return;
      default:
        // A reply word this driver does not know: fail this command, keep the session.
        this.settle(tag, entry);
        this.abandoned.add(tag);
        entry.reject(new RouterError('protocol', `router sent an unknown reply word ${JSON.stringify(reply)}`, { routerMessage: reply }));
    }
  }

  private timeout(tag: string, entry: InFlight, timeoutMs: number): void {
    if (this.inFlight.get(tag) !== entry) return;
    this.settle(tag, entry);
    this.abandoned.add(tag);
    entry.reject(unreachable(`router did not answer within ${timeoutMs} ms`));
    if (this.lastDataAt < entry.sentAt) {
      // Not a byte since the command left: the peer is gone, not just slow.
      this.fail(unreachable(`router stopped answering (nothing for ${timeoutMs} ms)`));
      this.socket.destroy();
      return;
    }
    const cancelTag = `c${tag}`;
    this.abandoned.add(cancelTag);
    this.socket.write(encodeSentence(['/cancel', `=tag=${tag}`, `.tag=${cancelTag}`]));
  }

  private settle(tag: string, entry: InFlight): void {
    if (entry.timer) clearTimeout(entry.timer);
    this.inFlight.delete(tag);
  }

  private fail(error: RouterError): void {
    if (this.closed) return;
    this.closed = error;
    const entries = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const e of entries) {
      if (e.timer) clearTimeout(e.timer);
      e.reject(error);
    }
    this.emit('close', error);
  }
}
