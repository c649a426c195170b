/**
 * The SSH driver: RouterOS console commands over one persistent SSH connection (ssh2), one `exec`
 * channel per command with at most `maxChannels` open at once, reconnecting when the connection
 * drops. Values are quoted and escaped by ./cli.ts; prints are read as JSON through
 * `:serialize to=json` on RouterOS 7.13+ (exact for any value), and from `print terse` before that.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
// ssh2 is loaded on the first SSH connect, not at start: it instantiates WebAssembly crypto on
// import (~15 MB resident), which an agent whose routers all speak the API never needs.
import type ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';
import { decodeWin1252 } from '../encoding.ts';
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
import type { HostKeyPins } from '../../state/host-keys.ts';
import { SessionKeeper } from '../session.ts';
import { checkId, withId } from '../validate.ts';
import { cliArgs, cliPath, cliWhere, consoleError, rowsFromJson, rowsFromTerse } from './cli.ts';

/** Tuning of the SSH driver. */
export interface SshClientOptions {
  /** `exec` channels open at once; default 4. */
  maxChannels?: number;
  /** Per-command timeout; default `config.timeoutMs` or 15 s. */
  timeoutMs?: number;
  /** Connect and authentication timeout; default 10 s. */
  connectTimeoutMs?: number;
  logger?: Logger;
  /** Host keys pinned on first use, for a router without `sshHostKey` (without both, any key is accepted). */
  hostKeys?: HostKeyPins;
}

/** What the driver has done, for tests. */
export interface SshClientStats {
  connects: number;
  commands: number;
}

interface Session {
  client: ssh2.Client;
  alive: boolean;
  /** RouterOS 7.13+ has `:serialize`. */
  json: boolean;
}

const unreachable = (message: string, cause?: unknown) => new RouterError('unreachable', message, { cause, retryable: true });

/** The host key fingerprint as OpenSSH prints it. */
export const fingerprint = (key: Buffer): string => `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;

function versionAtLeast(version: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = version.split(/[.\s]/).map((p) => Number.parseInt(p, 10) || 0);
  return a > major || (a === major && b >= minor);
}

/** {@link RouterClient} over SSH and the RouterOS console. */
export class RouterOsSshClient implements RouterClient {
  readonly name: string;
  readonly stats: SshClientStats = { connects: 0, commands: 0 };
  private readonly maxChannels: number;
  private readonly timeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly logger: Logger | undefined;
  private readonly hostKeys: HostKeyPins | undefined;
  private readonly session = new SessionKeeper(
    () => this.connect(),
    (s) => s.alive,
  );
  private open = 0;
  private readonly waiting: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly config: RouterConfig,
    options: SshClientOptions = {},
  ) {
    this.name = config.name;
    this.maxChannels = Math.max(1, options.maxChannels ?? 4);
    this.timeoutMs = options.timeoutMs ?? config.timeoutMs ?? 15_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.logger = options.logger?.child({ routerName: config.name });
    this.hostKeys = options.hostKeys;
  }

  async print(menu: string, options: PrintOptions = {}): Promise<RouterRow[]> {
    const path = cliPath(menu);
    const where = cliWhere(options.where);
    const session = await this.session.get();
    if (session.json) {
      const proplist = options.proplist ? ` proplist=${withId(options.proplist).join(',')}` : '';
      const command = `:put [:serialize to=json value=[${path} print as-value${proplist}${where}]]`;
      const output = await this.exec(command);
      const rows = rowsFromJson(output.trim());
      if (!rows) throw consoleError(output, command);
      return rows;
    }
    const command = `${path} print terse show-ids without-paging${where}`;
    const output = await this.exec(command);
    const rows = rowsFromTerse(output);
    if (!rows) {
      if (output.trim().split('\n').length === 1) throw consoleError(output, command);
      throw new RouterError('protocol', `could not read the output of ${path} print terse (a value with a line break?)`, {
        routerMessage: output.slice(0, 500),
      });
    }
    return options.proplist ? rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => k === '.id' || options.proplist?.includes(k)))) : rows;
  }

  async add(menu: string, props: Record<string, string>): Promise<string> {
    const command = `:put [${cliPath(menu)} add ${cliArgs(props)}]`;
    const output = (await this.exec(command)).trim();
    if (!/^\*[0-9A-F]+$/.test(output)) throw consoleError(output, command);
    return output;
  }

  async set(menu: string, id: string, props: Record<string, string>, options: WriteOptions = {}): Promise<void> {
    await this.silent(`${cliPath(menu)} set ${checkId(id)} ${cliArgs(props)}`, options.session);
  }

  async remove(menu: string, id: string): Promise<void> {
    await this.silent(`${cliPath(menu)} remove ${checkId(id)}`);
  }

  /** The serial of the live router session, or undefined between sessions. */
  sessionSerial(): number | undefined {
    return this.session.live() ? this.stats.connects : undefined;
  }

  async health(): Promise<RouterHealthInfo> {
    const command = ':put [/system resource get version]; :put [/system identity get name]; :put [/system resource get uptime]';
    const [version = '', identity = '', uptime = ''] = (await this.exec(command)).split(/\r?\n/);
    const uptimeSeconds = parseDuration(uptime);
    return { version: version.trim(), identity: identity.trim(), ...(uptimeSeconds === undefined ? {} : { uptimeSeconds: Math.floor(uptimeSeconds) }) };
  }

  async countEntries(menus: readonly string[]): Promise<Partial<Record<string, number>>> {
    const command = (menu: string): string => `:put [${cliPath(menu)} print count-only]`;
    const counts = (output: string): number[] | undefined => {
      const lines = output.trim().split(/\r?\n/);
      return lines.every((l) => /^[0-9]{1,10}$/.test(l.trim())) ? lines.map(Number) : undefined;
    };
    // One channel for all of them; RouterOS parses a whole line before running it, so one menu it
    // lacks (a v6 router without the hotspot package) fails the line: then each is counted alone.
    const all = counts(await this.exec(menus.map(command).join('; ')));
    if (all?.length === menus.length) return Object.fromEntries(menus.map((m, i) => [m, all[i]!]));
    const out: Partial<Record<string, number>> = {};
    for (const menu of menus) {
      const one = counts(await this.exec(command(menu)));
      if (one?.length === 1) out[menu] = one[0]!;
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    (await this.session.release())?.client.end();
  }

  /** A command that prints nothing when it works. */
  private async silent(command: string, onSession?: number): Promise<void> {
    const output = await this.exec(command, onSession);
    if (output.trim() !== '') throw consoleError(output, command);
  }

  /** Runs one command line on its own channel; resolves with what it printed. */
  private async exec(command: string, onSession?: number): Promise<string> {
    if (this.closed) throw unreachable('driver closed');
    await this.slot();
    try {
      const session = await this.session.get();
      if (onSession !== undefined && onSession !== this.stats.connects) throw sessionChanged();
      this.stats.commands++;
      return await this.execOn(session, command);
    } finally {
      this.open--;
      this.waiting.shift()?.();
    }
  }

  private slot(): Promise<void> {
    if (this.open < this.maxChannels) {
      this.open++;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.waiting.push(() => {
        this.open++;
        resolve();
      }),
    );
  }

  private execOn(session: Session, command: string): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      let channel: ClientChannel | undefined;
      const chunks: Buffer[] = [];
      let exited = false;
      const timer = setTimeout(() => {
        channel?.close();
        reject(unreachable(`router did not answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      session.client.exec(command, (err, stream) => {
        if (err) {
          clearTimeout(timer);
          reject(unreachable(`router refused an SSH channel: ${err.message}`, err));
          return;
        }
        channel = stream;
        stream.on('data', (d: Buffer) => chunks.push(d));
        stream.stderr.on('data', (d: Buffer) => chunks.push(d));
        stream.on('exit', () => {
          exited = true;
        });
        stream.on('close', () => {
          clearTimeout(timer);
          // Let the connection report its own end first: a channel closed by a dying connection is no answer.
          setImmediate(() => {
            if (exited || session.alive) resolve(decodeWin1252(Buffer.concat(chunks)));
            else reject(unreachable('SSH connection to router lost'));
          });
        });
      });
    });
  }

  private async connect(): Promise<Session> {
    const { config } = this;
    const { default: ssh } = await import('ssh2');
    const client = new ssh.Client();
    const session: Session = { client, alive: false, json: true };
    const address = `${config.host}:${config.port}`;
    let refused: RouterError | undefined;
    await new Promise<void>((resolve, reject) => {
      client.on('ready', () => {
        // Small commands and their answers must not wait for Nagle and delayed ACKs (~40 ms each).
        client.setNoDelay(true);
        session.alive = true;
        resolve();
      });
      client.on('error', (e: Error & { level?: string }) => {
        session.alive = false;
        if (/verification failed/i.test(e.message))
          reject(refused ?? new RouterError('login', `router ${config.name}: SSH host key refused`, { cause: e, retryable: false }));
        else if (e.level === 'client-authentication')
          reject(new RouterError('login', `router refused the SSH login of ${config.username}`, { cause: e, retryable: false, routerMessage: e.message }));
        else reject(unreachable(`SSH connection to ${config.host}:${config.port} failed: ${e.message}`, e));
      });
      client.on('close', () => {
        session.alive = false;
        this.session.forget(session);
        reject(unreachable(`SSH connection to ${config.host}:${config.port} closed`));
      });
      client.connect({
        host: config.host,
        port: config.port,
        username: config.username,
        password: config.password,
        readyTimeout: this.connectTimeoutMs,
        keepaliveInterval: 30_000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
          const seen = fingerprint(key);
          const pinned = config.sshHostKey ?? this.hostKeys?.get(address);
          if (pinned === undefined) {
            // First use: trust this key from now on, and only this one.
            if (!this.hostKeys) return verify(true);
            this.hostKeys.pin(address, seen, config.name).then(
              () => {
                this.logger?.info({ address, fingerprint: seen, file: this.hostKeys?.where }, 'router SSH host key pinned on first use');
                verify(true);
              },
              (err: unknown) => {
                refused = new RouterError('login', `router ${config.name}: could not pin its SSH host key ${seen}: ${(err as Error).message}`, {
                  cause: err,
                  retryable: true,
                });
                verify(false);
              },
            );
            return;
          }
          if (pinned === seen) return verify(true);
          const how = config.sshHostKey ? 'set sshHostKey to the new one' : `remove ${address} from ${this.hostKeys?.where ?? 'the pinned keys'}`;
          refused = new RouterError(
            'login',
            `router ${config.name} (${address}) presented SSH host key ${seen}, expected ${pinned}: refusing to connect (if the router was replaced on purpose, ${how})`,
            { retryable: false },
          );
          this.logger?.error({ address, expected: pinned, presented: seen }, 'router SSH host key does not match');
          verify(false);
        },
      });
    });
    this.stats.connects++;
    if (this.closed) {
      client.end();
      throw unreachable('driver closed');
    }
    const version = await this.execOn(session, ':put [/system resource get version]');
    session.json = versionAtLeast(version.trim(), 7, 13);
    this.logger?.info({ version: version.trim() }, 'router SSH session opened');
    return session;
  }
}
