/**
 * A RouterOS emulator for tests, benchmarks and the demo: the API wire protocol on TCP (and
 * api-ssl over TLS), a console subset over SSH, one in-memory store behind both, and knobs for
 * the faults a real router has (down, refusing logins, resets, latency, a busy CPU).
 *
 * Strings are Windows-1252 bytes on every side (the agent's drivers/encoding.ts is the client side).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, TLSSocket } from 'node:tls';
import ssh2 from 'ssh2';
import { ApiSession } from './api-session.ts';
import type { SimContext, SimCounters } from './context.ts';
import { RouterCpu } from './cpu.ts';
import { SimSshServer } from './ssh-server.ts';
import { RouterStore } from './store.ts';
import { Hotspot } from './hotspot.ts';
import { HotspotHttp } from './hotspot-http.ts';
import { ADH_CIPHERS, dhParamsPem } from './tls.ts';

export { RouterStore, RosError, formatId, type Row } from './store.ts';
export type { SimCounters } from './context.ts';
export { Hotspot, LOGIN_ERRORS, octalEscape, type Device } from './hotspot.ts';

/** How to build an emulated router. */
export interface RouterOsSimOptions {
  /** Address to listen on; `127.0.0.1` by default. */
  host?: string;
  /** API port; 0 (the default) picks a free one. */
  apiPort?: number;
  /** api-ssl port (0 picks one); off unless set. */
  apiSslPort?: number | null;
  /** SSH port; 0 (the default) picks a free one, `null` turns SSH off. */
  sshPort?: number | null;
  username?: string;
  password?: string;
  /** `7.18.2` by default; below 7.18 there is no `!empty`, below 7.13 no `:serialize`. */
  version?: string;
  identity?: string;
  /** Delay before each command's replies, per command and concurrently. */
  latencyMs?: number;
  /** CPU time of each write, serialised across the router. */
  opCostMs?: number;
  /** SSH host key (OpenSSH or PEM private key). */
  hostKey?: string | Buffer;
  /** SSH host key file: read when it exists, else generated and written there. */
  hostKeyPath?: string;
  /** Hotspot web server port (login page, `POST /login`, status); off unless set (0 picks one). */
  hotspotPort?: number | null;
  /** api-ssl certificate; without one the emulator uses anonymous DH, like RouterOS with no certificate. */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

/** Where the emulator listens. */
export interface SimPorts {
  apiPort: number;
  sshPort?: number;
  apiSslPort?: number;
  hotspotPort?: number;
}

/** Counters plus the store's write count. */
export interface SimStats extends SimCounters {
  /** Write commands that changed the store, over every transport. */
  writes: number;
}

const versionAtLeast = (version: string, want: readonly number[]): boolean => {
  const have = version.split(/[.\s]/).map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < want.length; i++) {
    const h = have[i] ?? 0;
    const w = want[i] ?? 0;
    if (h !== w) return h > w;
  }
  return true;
};

const zeroCounters = (): SimCounters => ({
  apiConnections: 0,
  sshConnections: 0,
  logins: 0,
  loginFailures: 0,
  commands: 0,
  cliCommands: 0,
  inFlight: 0,
  maxInFlightPerConnection: 0,
  rounds: 0,
});

/**
 * A fresh ed25519 SSH host key pair (OpenSSH format). ssh2 1.17 strips a leading zero byte of the
 * public key, so about one key in 256 comes out unreadable (mscdex/ssh2#1513): such a key is
 * thrown away and another made.
 */
export function generateHostKey(): { private: string; public: string } {
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    if (!(ssh2.utils.parseKey(pair.private) instanceof Error) && !(ssh2.utils.parseKey(pair.public) instanceof Error)) return pair;
  }
}

function loadHostKey(options: RouterOsSimOptions): string | Buffer {
  if (options.hostKey) return options.hostKey;
  const path = options.hostKeyPath;
  if (path && existsSync(path)) return readFileSync(path);
  const key = generateHostKey().private;
  if (path) writeFileSync(path, key, { mode: 0o600 });
  return key;
}

/** An emulated RouterOS router. */
export class RouterOsSim {
  /** The configuration, for tests to inspect and disturb (drift, sessions). */
  readonly store: RouterStore;
  /** Hotspot logins and session counters (`advance` is the test's knob for time and traffic). */
  readonly hotspot: Hotspot;
  /** The hotspot's web server (`files` holds an uploaded `login.html`). */
  readonly hotspotHttp: HotspotHttp;
  private readonly options: RouterOsSimOptions;
  private readonly counters = zeroCounters();
  private readonly cpu: RouterCpu;
  private readonly ctx: SimContext;
  private readonly sockets = new Set<Socket>();
  private readonly servers: Server[] = [];
  private ssh: SimSshServer | undefined;
  private latency: number;
  private opCost: number;
  private down: false | 'reset' | 'silent' = false;
  private refusing = false;
  private listening: SimPorts | undefined;

  constructor(options: RouterOsSimOptions = {}) {
    this.options = options;
    const version = options.version ?? '7.18.2';
    this.store = new RouterStore({ version, identity: options.identity ?? 'MikroTik' });
    this.hotspot = new Hotspot(this.store);
    this.hotspotHttp = new HotspotHttp(this.hotspot, () => this.store.identity);
    this.latency = options.latencyMs ?? 0;
    this.opCost = options.opCostMs ?? 0;
    this.cpu = new RouterCpu(() => this.opCost);
    const username = options.username ?? 'admin';
    const password = options.password ?? '';
    this.ctx = {
      store: this.store,
      cpu: this.cpu,
      counters: this.counters,
      latencyMs: () => this.latency,
      emptyReply: versionAtLeast(version, [7, 18]),
      hasSerialize: versionAtLeast(version, [7, 13]),
      checkLogin: (user, proof) => {
        const ok = !this.refusing && user === username && proof(password);
        if (ok) this.counters.logins++;
        else this.counters.loginFailures++;
        return ok;
      },
    };
  }

  /** Starts listening; resolves with the ports in use. */
  async start(): Promise<SimPorts> {
    if (this.listening) return this.listening;
    const host = this.options.host ?? '127.0.0.1';
    const api = createTcpServer((s) => this.admit(s, 'api'));
    const ports: SimPorts = { apiPort: await this.listen(api, host, this.options.apiPort ?? 0) };
    if (this.options.apiSslPort !== undefined && this.options.apiSslPort !== null) {
      const tlsOptions = this.options.tls ?? { ciphers: ADH_CIPHERS, maxVersion: 'TLSv1.2' as const, dhparam: dhParamsPem() };
      const ssl = createTlsServer(tlsOptions, (s) => this.admit(s, 'api'));
      ssl.on('tlsClientError', () => undefined);
      ports.apiSslPort = await this.listen(ssl, host, this.options.apiSslPort);
    }
    if (this.options.sshPort !== null) {
      this.ssh = new SimSshServer(this.ctx, loadHostKey(this.options), () => this.store.identity);
      const ssh = createTcpServer((s) => this.admit(s, 'ssh'));
      ports.sshPort = await this.listen(ssh, host, this.options.sshPort ?? 0);
    }
    if (this.options.hotspotPort !== undefined && this.options.hotspotPort !== null)
      ports.hotspotPort = await this.hotspotHttp.start(host, this.options.hotspotPort);
    this.listening = ports;
    return ports;
  }

  /** Stops listening and drops every connection. */
  async stop(): Promise<void> {
    this.resetConnections();
    this.cpu.clear();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.servers.length = 0;
    await this.hotspotHttp.stop();
    this.listening = undefined;
  }

  /** The ports in use once started. */
  get ports(): SimPorts | undefined {
    return this.listening;
  }

  /** Counters since start (or the last {@link resetStats}). */
  get stats(): SimStats {
    return { ...this.counters, writes: this.store.counters.writes };
  }

  /** Zeroes the counters (not the configuration). */
  resetStats(): void {
    Object.assign(this.counters, zeroCounters(), { inFlight: this.counters.inFlight });
    this.store.counters.writes = 0;
    this.store.counters.entriesTouched = 0;
  }

  /**
   * Turns the router off (`true`) or on. Off drops every connection; `reset` refuses new ones at
   * once, `silent` accepts them and never answers, like a router that stopped mid-way.
   */
  setDown(down: boolean, mode: 'reset' | 'silent' = 'reset'): void {
    this.down = down ? mode : false;
    this.resetConnections();
    this.cpu.clear();
  }

  /**
   * Restarts the router: every connection drops and uptime starts again. `empty` also wipes its
   * configuration back to the factory's (a reset, a replaced router), identity included unless
   * `identity` is given (a restored backup keeps its name).
   */
  reboot(options: { empty?: boolean; identity?: string } = {}): void {
    this.resetConnections();
    this.cpu.clear();
    this.store.reboot(options.empty ?? false);
    if (options.identity !== undefined) this.store.identity = options.identity;
    else if (options.empty) this.store.identity = 'MikroTik';
  }

  /** Refuses every login (`invalid user name or password (6)`) while true. */
  refuseLogins(refuse: boolean): void {
    this.refusing = refuse;
  }

  /** Resets every open connection, API and SSH (TCP RST: the client sees ECONNRESET). */
  resetConnections(): void {
    for (const s of this.sockets) {
      if (s.destroyed) continue;
      // TLS sockets cannot be reset directly; they are plain-closed.
      if (!(s instanceof TLSSocket) && !s.connecting) s.resetAndDestroy();
      else s.destroy();
    }
    this.sockets.clear();
  }

  /** Changes the reply latency. */
  setLatency(ms: number): void {
    this.latency = ms;
  }

  /** Changes the CPU cost of a write. */
  setOpCost(ms: number): void {
    this.opCost = ms;
  }

  private async listen(server: Server, host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.servers.push(server);
    return (server.address() as AddressInfo).port;
  }

  private admit(socket: Socket, kind: 'api' | 'ssh'): void {
    socket.on('error', () => undefined);
    socket.setNoDelay(true);
    if (this.down === 'reset') {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    if (this.down === 'silent') return;
    if (kind === 'api') {
      this.counters.apiConnections++;
      new ApiSession(socket, this.ctx);
    } else {
      this.counters.sshConnections++;
      this.ssh?.accept(socket);
    }
  }
}
