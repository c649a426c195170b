import type { KeyObject } from 'node:crypto';
import { WebSocket, type RawData } from 'ws';
import {
  ACKS_CAPABILITY,
  AGENT_MAX_PAYLOAD,
  CONTROLLER_CAPABILITY_HEADER,
  CONTROLLER_MAX_PAYLOAD,
  ENTRY_COUNTS_CAPABILITY,
  type AckMessage,
  type AgentMessage,
  type HelloMessage,
} from '@mtandao/protocol';
import { signAgentMessage } from '@mtandao/protocol/signing';
import type { Logger } from '../logger.ts';
import { backoffDelay, jittered } from './backoff.ts';
import { resolveEndpoints, type Endpoint, type Resolver } from './endpoints.ts';
import { authHeaders, readBody, refusalReason } from './upgrade.ts';

/** Timing of the controller connection; SPEC section 6 values by default. */
export interface ChannelTiming {
  /** Keepalive ping period (± 20 % jitter); a controller silent for two periods is dropped. */
  pingIntervalMs: number;
  /** First reconnect ceiling. */
  backoffBaseMs: number;
  /** Reconnect ceiling cap. */
  backoffCapMs: number;
  /** After a 401, wait between half this and this before trying again. */
  authRetryMs: number;
  handshakeTimeoutMs: number;
  /** A connection that lived this long resets the backoff. */
  stableAfterMs: number;
}

/** Defaults of `ChannelTiming`. */
export const DEFAULT_CHANNEL_TIMING: ChannelTiming = {
  pingIntervalMs: 15_000,
  backoffBaseMs: 500,
  backoffCapMs: 30_000,
  authRetryMs: 60_000,
  handshakeTimeoutMs: 10_000,
  stableAfterMs: 10_000,
};

/** What the channel needs from the agent. */
export interface ChannelOptions {
  /** The controller's WebSocket URL; with `urls`, the list of controllers to walk (every address of each name). */
  url: string;
  /** Every controller WebSocket URL, in order of preference (default: `[url]`). */
  urls?: readonly string[];
  /** Resolves host names to all their addresses (default: the system resolver). */
  resolve?: Resolver;
  agentId: string;
  privateKey: KeyObject;
  logger: Logger;
  timing?: Partial<ChannelTiming>;
  /** Built at each connect so it carries the lastSeq of that moment. */
  hello: () => HelloMessage;
  onFrame: (text: string) => void;
  onConnected?: () => void;
  /** Messages kept for the controller while it is away (acks only; health and logs are dropped). */
  maxQueued?: number;
  /**
   * Acks about to be ready (the journal writing more outcomes now): the outbox waits for them
   * once before writing acks, so the acks of back-to-back writes leave in one message.
   */
  acksPending?: () => Promise<void> | undefined;
}

interface Queued {
  msg: AgentMessage;
  droppable: boolean;
}

/** Above this many bytes waiting in the socket, the outbox stops writing until it drains below `LOW_WATER`. */
const HIGH_WATER = 1024 * 1024;
/** Largest batch of acks in one message (well under the controller's frame limit). */
const ACKS_BATCH_BYTES = 64 * 1024;
const LOW_WATER = 256 * 1024;

/**
 * The agent's one long-lived connection to the controller: dials with signed headers, says hello,
 * keeps alive with jittered pings, drops a silent controller, reconnects with capped full-jitter
 * backoff, and signs every outgoing message through an outbox that respects the socket's buffer.
 */
export class ControllerChannel {
  private readonly timing: ChannelTiming;
  private readonly log: Logger;
  private ws: WebSocket | undefined;
  private open = false;
  private stopping = false;
  private attempt = 0;
  private refusedStatus: number | undefined;
  private openedAt = 0;
  private lastHeard = 0;
  private readPaused = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private queue: Queued[] = [];
  private pumping = false;
  private pumpScheduled = false;
  /** What the controller said it takes on the upgrade (1 when it said nothing). */
  private controllerCapability = 1;
  private connectedWaiters: (() => void)[] = [];
  private closedWaiters: (() => void)[] = [];
  private dropped = 0;
  readonly urls: readonly string[];
  private endpoints: Endpoint[] = [];
  /** Index in `endpoints` of the next dial. */
  private next = 0;
  private current: Endpoint | undefined;

  constructor(private readonly options: ChannelOptions) {
    this.timing = { ...DEFAULT_CHANNEL_TIMING, ...options.timing };
    this.log = options.logger.child({ component: 'channel' });
    this.urls = options.urls?.length ? options.urls : [options.url];
    for (const text of this.urls) {
      const url = new URL(text);
      if (url.protocol === 'ws:' && !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) {
        this.log.warn({ url: text }, 'the controller link is not encrypted (ws://); use wss:// beyond loopback');
      }
    }
  }

  /** The controller URL of the open connection (or the last one tried). */
  get controllerUrl(): string | undefined {
    return this.current?.label;
  }

  /** Whether a WebSocket to the controller is open. */
  get connected(): boolean {
    return this.open;
  }

  /** Resolves when the channel is (or next becomes) connected. */
  whenConnected(): Promise<void> {
    if (this.open) return Promise.resolve();
    return new Promise((resolve) => this.connectedWaiters.push(resolve));
  }

  start(): void {
    this.stopping = false;
    this.connect();
  }

  /** Closes the connection and stops reconnecting. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    const ws = this.ws;
    if (!ws) return;
    const closed = new Promise<void>((resolve) => this.closedWaiters.push(resolve));
    ws.close(1001, 'agent stopping');
    const timer = setTimeout(() => ws.terminate(), 2000);
    await closed;
    clearTimeout(timer);
  }

  /**
   * Queues a message for the controller; it is signed as it leaves. Droppable messages (health,
   * logs) are not kept while disconnected; acks are, up to `maxQueued` (the oldest go first: the
   * controller redelivers unacknowledged commands and gets `duplicate` answers).
   */
  send(msg: AgentMessage, options: { droppable?: boolean } = {}): void {
    const droppable = options.droppable ?? msg.type !== 'ack';
    if (droppable && !this.open) return;
    this.queue.push({ msg, droppable });
    const max = this.options.maxQueued ?? 10_000;
    if (this.queue.length > max) {
      this.queue.splice(0, this.queue.length - max);
      if (this.dropped++ % 1000 === 0) this.log.warn({ max }, 'outbox full while the controller is away; dropping the oldest acks');
    }
    // written once the current turn of the event loop ends, so acks finishing together leave together
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      void this.pump();
    });
  }

  /** Stops (or restarts) reading frames from the controller: backpressure when work piles up. */
  pauseReading(paused: boolean): void {
    this.readPaused = paused;
    if (!this.open || !this.ws) return;
    if (paused) this.ws.pause();
    else this.ws.resume();
    this.log.info({ paused }, paused ? 'too much work in hand; pausing command intake' : 'resuming command intake');
  }

  /** The next address to dial; the list (and every name's addresses) is resolved afresh at each round. */
  private async pick(): Promise<Endpoint> {
    if (this.next >= this.endpoints.length || this.next === 0) {
      this.endpoints = await resolveEndpoints(this.urls, this.options.resolve);
      this.next = 0;
    }
    const endpoint = this.endpoints[this.next]!;
    this.next = (this.next + 1) % this.endpoints.length;
    return endpoint;
  }

  private connect(): void {
    if (this.stopping) return;
    void this.pick().then(
      (endpoint) => this.dial(endpoint),
      (err: unknown) => {
        this.log.warn({ err: (err as Error).message }, 'cannot resolve the controller addresses');
        this.reconnectTimer = setTimeout(
          () => this.connect(),
          backoffDelay(this.attempt++, { baseMs: this.timing.backoffBaseMs, capMs: this.timing.backoffCapMs }),
        );
      },
    );
  }

  private dial(endpoint: Endpoint): void {
    if (this.stopping) return;
    this.refusedStatus = undefined;
    this.current = endpoint;
    const ws = new WebSocket(endpoint.url, {
      headers: { ...authHeaders(this.options.agentId, this.options.privateKey), ...(endpoint.host ? { host: endpoint.host } : {}) },
      ...(endpoint.servername ? { servername: endpoint.servername } : {}),
      maxPayload: AGENT_MAX_PAYLOAD,
      handshakeTimeout: this.timing.handshakeTimeoutMs,
      perMessageDeflate: false,
    });
    this.ws = ws;
    ws.on('unexpected-response', (_req, res) => {
      this.refusedStatus = res.statusCode;
      void readBody(res).then((body) => {
        const reason = refusalReason(body);
        if (res.statusCode === 401)
          this.log.error({ status: 401, reason }, "the controller refused this agent's credentials (HTTP 401); is the agent still enrolled? retrying slowly");
        else this.log.warn({ status: res.statusCode, reason }, 'the controller refused the WebSocket upgrade');
        ws.terminate();
      });
    });
    ws.on('upgrade', (res) => {
      const said = Number(res.headers[CONTROLLER_CAPABILITY_HEADER]);
      this.controllerCapability = Number.isSafeInteger(said) && said >= 1 ? said : 1;
    });
    ws.on('open', () => this.onOpen(ws));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      this.lastHeard = Date.now();
      if (isBinary) {
        this.log.warn('ignoring a binary frame from the controller');
        return;
      }
      this.options.onFrame(data.toString());
    });
    ws.on('ping', () => (this.lastHeard = Date.now()));
    ws.on('pong', () => (this.lastHeard = Date.now()));
    ws.on('error', (err) => {
      if (this.refusedStatus === undefined) this.log.warn({ err: err.message }, 'controller connection error');
    });
    ws.on('close', (code, reason) => this.onClose(ws, code, reason.toString()));
  }

  private onOpen(ws: WebSocket): void {
    this.open = true;
    this.openedAt = Date.now();
    this.lastHeard = this.openedAt;
    this.log.info({ url: this.current?.label }, 'connected to the controller');
    // hello goes first, ahead of any queued ack.
    this.write(ws, this.options.hello());
    if (this.readPaused) ws.pause();
    this.startHeartbeat(ws);
    for (const resolve of this.connectedWaiters.splice(0)) resolve();
    this.options.onConnected?.();
    void this.pump();
  }

  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (this.ws !== ws) return;
    const wasOpen = this.open;
    this.open = false;
    this.ws = undefined;
    clearTimeout(this.pingTimer);
    clearInterval(this.watchdog);
    for (const resolve of this.closedWaiters.splice(0)) resolve();
    if (this.stopping) return;
    if (wasOpen && Date.now() - this.openedAt >= this.timing.stableAfterMs) this.attempt = 0;
    // Failover: each failure moves on to the next controller address; the backoff ceiling grows
    // per round through all of them, so a dead instance costs one short jittered wait, not a climb.
    const rounds = Math.floor(this.attempt++ / Math.max(1, this.endpoints.length));
    const delay =
      this.refusedStatus === 401
        ? Math.round(this.timing.authRetryMs * (0.5 + Math.random() / 2))
        : backoffDelay(rounds, { baseMs: this.timing.backoffBaseMs, capMs: this.timing.backoffCapMs });
    const url = this.current?.label;
    this.log[wasOpen ? 'warn' : 'info'](
      { url, code, reason: reason || undefined, retryInMs: delay },
      wasOpen ? 'controller connection closed' : 'could not connect to the controller',
    );
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  /** Pings at a jittered period; a watchdog drops the connection once nothing came for two periods. */
  private startHeartbeat(ws: WebSocket): void {
    const period = this.timing.pingIntervalMs;
    const ping = (): void => {
      if (ws.readyState === WebSocket.OPEN) ws.ping();
      this.pingTimer = setTimeout(ping, jittered(period));
    };
    this.pingTimer = setTimeout(ping, jittered(period));
    this.watchdog = setInterval(
      () => {
        // While intake is paused nothing is read, pongs included: that silence is ours, not the controller's.
        if (this.readPaused) this.lastHeard = Date.now();
        const silent = Date.now() - this.lastHeard;
        if (silent > 2 * period) {
          this.log.warn({ silentMs: silent }, 'the controller went silent; dropping the connection');
          ws.terminate();
        }
      },
      Math.max(50, Math.round(period / 4)),
    );
  }

  private write(ws: WebSocket, msg: AgentMessage): void {
    const text = JSON.stringify({ msg, sig: signAgentMessage(msg, this.options.privateKey) });
    if (text.length > CONTROLLER_MAX_PAYLOAD) {
      this.log.error({ type: msg.type, bytes: text.length }, 'message too large for the controller; not sent');
      return;
    }
    ws.send(text);
  }

  /**
   * The next message to write: acks waiting side by side go as one `acks` message (one signature)
   * when the controller takes it, up to 256 of them or about 64 KB.
   */
  private nextMessage(): AgentMessage {
    const first = this.queue.shift()!.msg;
    // an older controller's strict schema would refuse the whole report for the unknown field
    if (first.type === 'health' && this.controllerCapability < ENTRY_COUNTS_CAPABILITY)
      return { ...first, routers: first.routers.map(({ entries: _, ...rest }) => rest) };
    if (first.type !== 'ack' || this.controllerCapability < ACKS_CAPABILITY || this.queue[0]?.msg.type !== 'ack') return first;
    const acks = [first];
    let bytes = JSON.stringify(first).length;
    while (acks.length < 256 && this.queue[0]?.msg.type === 'ack') {
      const size = JSON.stringify(this.queue[0].msg).length;
      if (bytes + size > ACKS_BATCH_BYTES) break;
      bytes += size;
      acks.push(this.queue.shift()!.msg as AckMessage);
    }
    return { type: 'acks', agentId: this.options.agentId, acks, at: new Date().toISOString() };
  }

  /** Writes queued messages while the socket is open, waiting whenever its buffer is full. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      let waited = false;
      while (this.queue.length > 0 && this.open && this.ws) {
        const ws = this.ws;
        if (ws.bufferedAmount > HIGH_WATER) {
          await this.drained(ws);
          continue;
        }
        // Once per pump, not again: under a steady load a write is always in flight, and acks must still leave.
        const pending = waited || this.queue[0]!.msg.type !== 'ack' || this.controllerCapability < ACKS_CAPABILITY ? undefined : this.options.acksPending?.();
        waited = true;
        if (pending) {
          await pending;
          // the continuations that queue those acks run before this
          await new Promise<void>((resolve) => setImmediate(resolve));
          continue;
        }
        this.write(ws, this.nextMessage());
      }
    } finally {
      this.pumping = false;
    }
  }

  /** ws has no 'drain' event of its own; poll its buffered amount until it falls below the low mark. */
  private drained(ws: WebSocket): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (ws.bufferedAmount <= LOW_WATER || ws.readyState !== WebSocket.OPEN) resolve();
        else setTimeout(check, 5);
      };
      check();
    });
  }
}
