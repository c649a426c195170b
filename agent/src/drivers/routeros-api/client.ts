/**
 * The RouterOS API driver: one persistent session per router, opened on first use and again after
 * it drops, with up to `maxInFlight` tagged commands on the wire at once and the rest queued.
 *
 * Why not node-routeros (1.6.9, the last release)? Its receive path is where its known failures
 * live, and none can be fixed from outside without replacing that path:
 * - RouterOS 7.18's `!empty` reaches `Channel.onUnknown`, which throws UNKNOWNREPLY from inside the
 *   socket's `data` handler: an uncaught exception that ends the agent.
 * - a `!trap` is rejected as `new Error(message)`: `=category=` is lost.
 * - the socket's idle timeout (default 10 s) makes RouterOSAPI emit `error`; with no listener
 *   attached at that moment the process crashes.
 * - on ECONNRESET the channels in flight are never rejected (their promises hang for ever), or
 *   the reset itself escapes as an uncaught exception.
 * - a reply for a tag no longer read (after a timeout or `/cancel`) throws UNREGISTEREDTAG, again
 *   from the `data` handler.
 * - a length prefix split across two TCP segments is decoded from bytes that have not arrived,
 *   and the session hangs.
 * - strings go through iconv-lite's win1252 codec, which writes `?` for every character it cannot
 *   encode: a Cyrillic password lands as `??????` without a word.
 * So this driver speaks the wire protocol itself (./wire.ts, ./connection.ts); each failure above
 * has a test proving node-routeros fails and this driver does not (test/drivers-api.test.ts).
 */
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { SessionKeeper } from '../session.ts';
import {
  RouterError,
  sessionChanged,
  type PrintOptions,
  type RouterClient,
  type RouterConfig,
  type RouterHealthInfo,
  type RouterRow,
  type WriteOptions,
} from '../types.ts';
import { parseDuration } from '../values.ts';
import { checkId, checkMenu, checkName, withId } from '../validate.ts';
import { ApiConnection, unreachable, type Reply } from './connection.ts';

/** Tuning of the API driver. */
export interface ApiClientOptions {
  /** Commands on the wire at once; the rest wait in order, FIFO. Default 256: RouterOS runs one connection's commands in order, and a deep pipeline hides the round trip. */
  maxInFlight?: number;
  /** Per-command timeout; default `config.timeoutMs` or 10 s. */
  timeoutMs?: number;
  /** TCP (and TLS) connect timeout; default 5 s. */
  connectTimeoutMs?: number;
  logger?: Logger;
}

/**
 * TLS options for api-ssl. RouterOS with no certificate offers only anonymous DH suites; they can
 * only be allowed when verification is off, since an anonymous peer cannot be verified.
 */
export function apiSslOptions(config: RouterConfig): { rejectUnauthorized: boolean; ciphers?: string; servername?: string } {
  const verify = config.tlsRejectUnauthorized ?? false;
  // SNI takes a host name only (RFC 6066): an IP address is verified against the certificate without it.
  if (verify) return { rejectUnauthorized: true, ...(isIP(config.host) ? {} : { servername: config.host }) };
  // Not DEFAULT: its `!aNULL` would remove the anonymous suites for good.
  return {
    rejectUnauthorized: false,
    ciphers: 'ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:ADH-AES256-GCM-SHA384:ADH-AES128-GCM-SHA256:ADH-AES256-SHA256:@SECLEVEL=0',
  };
}

interface Job {
  words: string[];
  session: number | undefined;
  resolve: (r: Reply) => void;
  reject: (e: unknown) => void;
}

/** What the driver has done, for tests and benchmarks. */
export interface ApiClientStats {
  connects: number;
  commands: number;
  maxInFlight: number;
}

/** {@link RouterClient} over the RouterOS API (`api` and `api-ssl`). */
export class RouterOsApiClient implements RouterClient {
  readonly name: string;
  readonly stats: ApiClientStats = { connects: 0, commands: 0, maxInFlight: 0 };
  private readonly maxInFlight: number;
  private readonly timeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly logger: Logger | undefined;
  private readonly session = new SessionKeeper(
    () => this.open(),
    (c) => c.alive,
  );
  private readonly queue: Job[] = [];
  private running = 0;
  private closed = false;

  constructor(
    private readonly config: RouterConfig,
    options: ApiClientOptions = {},
  ) {
    this.name = config.name;
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 1024);
    this.timeoutMs = options.timeoutMs ?? config.timeoutMs ?? 10_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    this.logger = options.logger?.child({ routerName: config.name });
  }

  async print(menu: string, options: PrintOptions = {}): Promise<RouterRow[]> {
    const words = [`${checkMenu(menu)}/print`];
    if (options.proplist) words.push(`=.proplist=${withId(options.proplist).join(',')}`);
    for (const [k, v] of Object.entries(options.where ?? {})) words.push(`?${checkName(k)}=${v}`);
    return (await this.run(words)).rows;
  }

  async add(menu: string, props: Record<string, string>): Promise<string> {
    const reply = await this.run([`${checkMenu(menu)}/add`, ...attrs(props)]);
    const id = reply.done.ret;
    if (id === undefined) throw new RouterError('protocol', `router answered ${menu}/add without an id`);
    return id;
  }

  async set(menu: string, id: string, props: Record<string, string>, options: WriteOptions = {}): Promise<void> {
    await this.run([`${checkMenu(menu)}/set`, `=.id=${checkId(id)}`, ...attrs(props)], options.session);
  }

  async remove(menu: string, id: string): Promise<void> {
    await this.run([`${checkMenu(menu)}/remove`, `=.id=${checkId(id)}`]);
  }

  /** The serial of the live router session, or undefined between sessions. */
  sessionSerial(): number | undefined {
    return this.session.live() ? this.stats.connects : undefined;
  }

  async health(): Promise<RouterHealthInfo> {
    const [resource, identity] = await Promise.all([this.print('/system/resource', { proplist: ['version', 'uptime'] }), this.print('/system/identity')]);
    const uptimeSeconds = parseDuration(resource[0]?.uptime ?? '');
    return {
      version: resource[0]?.version ?? '',
      identity: identity[0]?.name ?? '',
      ...(uptimeSeconds === undefined ? {} : { uptimeSeconds: Math.floor(uptimeSeconds) }),
    };
  }

  async countEntries(menus: readonly string[]): Promise<Partial<Record<string, number>>> {
    // pipelined on the one session: a round trip for all of them, and the router sends one number each
    const counted = await Promise.allSettled(
      menus.map(async (menu) => {
        const reply = await this.run([`${checkMenu(menu)}/print`, '=count-only=']);
        // RouterOS 7.18+ may answer a print of an empty menu with `!empty` and no count: that is 0
        return reply.empty && reply.done.ret === undefined ? 0 : countOf(reply.done.ret);
      }),
    );
    const out: Partial<Record<string, number>> = {};
    counted.forEach((c, i) => {
      if (c.status === 'fulfilled' && c.value !== undefined) out[menus[i]!] = c.value;
      else if (c.status === 'rejected' && c.reason instanceof RouterError && c.reason.category === 'unreachable') throw c.reason;
    });
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(unreachable('driver closed'));
    (await this.session.release())?.destroy();
  }

  /** Queues a command; at most `maxInFlight` run at once. */
  private run(words: string[], session?: number): Promise<Reply> {
    if (this.closed) return Promise.reject(unreachable('driver closed'));
    return new Promise<Reply>((resolve, reject) => {
      this.queue.push({ words, session, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.maxInFlight && this.queue.length > 0) {
      const job = this.queue.shift() as Job;
      this.running++;
      this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.running);
      this.execute(job.words, job.session)
        .then(job.resolve, job.reject)
        .finally(() => {
          this.running--;
          this.pump();
        });
    }
  }

  private async execute(words: string[], session: number | undefined): Promise<Reply> {
    let conn: ApiConnection;
    try {
      conn = await this.session.get();
    } catch (e) {
      // Whatever waits behind this command would meet the same closed door: fail it now rather
      // than dial the router once per queued command.
      for (const job of this.queue.splice(0)) job.reject(e);
      throw e;
    }
    if (session !== undefined && session !== this.stats.connects) throw sessionChanged();
    this.stats.commands++;
    return conn.command(words, this.timeoutMs);
  }

  private async open(): Promise<ApiConnection> {
    const { config } = this;
    const conn = await ApiConnection.open({
      host: config.host,
      port: config.port,
      username: config.username,
      password: config.password,
      ...(config.transport === 'api-ssl' ? { tls: apiSslOptions(config) } : {}),
      connectTimeoutMs: this.connectTimeoutMs,
      loginTimeoutMs: this.timeoutMs,
      ...(this.logger ? { logger: this.logger } : {}),
    });
    this.stats.connects++;
    if (this.closed) {
      conn.destroy();
      throw unreachable('driver closed');
    }
    conn.on('close', (e: RouterError) => {
      this.logger?.info({ err: e.message }, 'router API session ended');
      this.session.forget(conn);
    });
    this.logger?.info('router API session opened');
    return conn;
  }
}

/** The `=ret=` of a `print count-only`, or undefined when the router sent none (or not a count). */
function countOf(ret: string | undefined): number | undefined {
  return ret !== undefined && /^[0-9]{1,10}$/.test(ret) ? Number(ret) : undefined;
}

function attrs(props: Record<string, string>): string[] {
  return Object.entries(props).map(([k, v]) => `=${checkName(k)}=${v}`);
}
