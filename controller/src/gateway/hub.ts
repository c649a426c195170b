import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  AGENT_AUTH_HEADERS,
  AgentFrame,
  AgentMessage,
  CAPABILITY_VERSION,
  CONTROLLER_CAPABILITY_HEADER,
  CONTROLLER_MAX_PAYLOAD,
  type CommandFrame,
} from '@mtandao/protocol';
import { AGENT_AUTH_SKEW_MS, loadPublicKey, readAgentAuth, verifyAgentMessage } from '@mtandao/protocol/signing';
import type { KeyObject } from 'node:crypto';
import type { Logger } from '../logger.ts';
import type { SitesRepository } from '../repositories/sites.repository.ts';

/** Above this much unsent data the dispatcher waits for the socket to drain. */
export const HIGH_WATER_BYTES = 1024 * 1024;

/** One connected agent on this controller instance. */
export class AgentSession {
  alive = true;
  lastSeen = Date.now();
  helloReceived = false;
  constructor(
    readonly agentId: string,
    readonly siteId: string,
    readonly publicKey: KeyObject,
    readonly ws: WebSocket,
  ) {}

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  private corked = false;

  /**
   * Sends a command (a frame, or its wire text as sealed); frames sent in the same turn (a claimed
   * batch) leave in one TCP write.
   */
  send(frame: CommandFrame | string): void {
    // ws keeps its socket as `_socket` (ws 8): corking it merges the frames' writes
    const socket = (this.ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    if (socket && !this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Resolves once buffered data is below the high-water mark (backpressure on slow agents). */
  async drained(): Promise<void> {
    while (this.open && this.ws.bufferedAmount > HIGH_WATER_BYTES) await new Promise((r) => setTimeout(r, 20));
  }
}

/** What the hub tells the dispatcher. */
export interface HubEvents {
  connected(session: AgentSession): void;
  message(session: AgentSession, msg: AgentMessage): Promise<void>;
  disconnected(session: AgentSession): void;
}

/**
 * The `/agent` WebSocket endpoint. Agents authenticate at the upgrade by signing a fresh
 * timestamp and nonce; anything wrong gets 401 and the socket is destroyed before a WebSocket
 * exists. Every frame an agent sends is signed with its enrolled key.
 */
export class AgentHub {
  readonly instanceId: string;
  readonly sessions = new Map<string, AgentSession>();
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: CONTROLLER_MAX_PAYLOAD, perMessageDeflate: false });
  private heartbeat?: NodeJS.Timeout;
  private seenTimer?: NodeJS.Timeout;
  private events?: HubEvents;

  constructor(
    private readonly sites: SitesRepository,
    private readonly logger: Logger,
    private readonly heartbeatMs: number,
    instanceId?: string,
  ) {
    this.instanceId = instanceId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  }

  attach(server: Server, events: HubEvents): void {
    this.events = events;
    // tells the agent what this controller takes (batched acks from capability 2)
    this.wss.on('headers', (headers) => headers.push(`${CONTROLLER_CAPABILITY_HEADER}: ${CAPABILITY_VERSION}`));
    server.on('upgrade', (req, socket, head) => {
      void this.upgrade(req, socket, head);
    });
    this.scheduleHeartbeat();
    this.seenTimer = setInterval(
      () => {
        const live = [...this.sessions.values()].filter((s) => s.open).map((s) => s.agentId);
        this.sites.markSeen(live).catch((err: unknown) => this.logger.warn({ err }, 'could not record agent heartbeats'));
        // an agent retired through another controller instance is dropped here within this interval
        this.sites
          .retiredAmong(live)
          .then((ids) => this.drop(ids, 'agent retired'))
          .catch((err: unknown) => this.logger.warn({ err }, 'could not check for retired agents'));
      },
      Math.max(1000, Math.min(this.heartbeatMs, 10_000)),
    );
  }

  /** Closes the connections of these agents now (retired, re-enrolled or their site deleted). */
  drop(agentIds: string[], reason: string): void {
    for (const id of agentIds) {
      const session = this.sessions.get(id);
      if (!session) continue;
      this.logger.warn({ agentId: id, reason }, 'dropping the agent connection');
      this.sessions.delete(id);
      session.ws.close(4003, reason);
      // a peer that does not answer the close is cut off
      setTimeout(() => session.ws.terminate(), 2000).unref();
    }
  }

  /** Pings every session with jitter; a peer silent for two intervals is dropped. */
  private scheduleHeartbeat(): void {
    const jittered = this.heartbeatMs * (0.8 + Math.random() * 0.4);
    this.heartbeat = setTimeout(() => {
      const now = Date.now();
      for (const s of this.sessions.values()) {
        if (now - s.lastSeen > this.heartbeatMs * 2) {
          this.logger.warn({ agentId: s.agentId }, 'agent missed two heartbeats; dropping the connection');
          s.ws.terminate();
          continue;
        }
        if (s.open) s.ws.ping();
      }
      this.scheduleHeartbeat();
    }, jittered);
  }

  private refuse(socket: Duplex, status: number, reason: string, req: IncomingMessage): void {
    this.logger.warn({ status, reason, remote: req.socket.remoteAddress, agentId: req.headers[AGENT_AUTH_HEADERS.agentId] }, 'agent connection refused');
    const text = status === 401 ? 'Unauthorized' : status === 404 ? 'Not Found' : 'Bad Request';
    socket.write(
      `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`,
    );
    socket.destroy();
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/agent') return this.refuse(socket, 404, 'no such endpoint', req);
    const read = readAgentAuth(req.headers);
    if (!read.ok) return this.refuse(socket, 401, read.reason, req);
    const { agentId, nonce, at } = read.claim;
    let agent;
    try {
      agent = await this.sites.findAgent(agentId);
    } catch (err) {
      this.logger.error({ err }, 'agent lookup failed');
      return this.refuse(socket, 401, 'try again', req);
    }
    if (!agent || agent.revokedAt) return this.refuse(socket, 401, 'unknown or retired agent', req);
    const key = loadPublicKey(agent.publicKey);
    if (!read.claim.verify(key)) return this.refuse(socket, 401, 'bad signature', req);
    if (!(await this.sites.useNonce(nonce, agentId, new Date(at + AGENT_AUTH_SKEW_MS * 2)).catch(() => false)))
      return this.refuse(socket, 401, 'replayed challenge', req);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, agentId, String(agent.siteId), key));
  }

  private accept(ws: WebSocket, agentId: string, siteId: string, key: KeyObject): void {
    const previous = this.sessions.get(agentId);
    if (previous) previous.ws.close(4000, 'replaced by a newer connection');
    const session = new AgentSession(agentId, siteId, key, ws);
    this.sessions.set(agentId, session);
    const log = this.logger.child({ agentId, siteId });
    log.info('agent connected');
    ws.on('pong', () => {
      session.lastSeen = Date.now();
    });
    ws.on('message', (data, isBinary) => {
      session.lastSeen = Date.now();
      if (isBinary) return ws.close(1003, 'text frames only');
      void this.receive(session, data.toString(), log);
    });
    ws.on('error', (err) => log.warn({ err: err.message }, 'agent connection error'));
    ws.on('close', (code, reason) => {
      if (this.sessions.get(agentId) === session) this.sessions.delete(agentId);
      log.info({ code, reason: reason.toString() }, 'agent disconnected');
      this.events?.disconnected(session);
    });
    this.events?.connected(session);
  }

  private async receive(session: AgentSession, text: string, log: Logger): Promise<void> {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      log.warn('agent sent a frame that is not JSON');
      return;
    }
    const frame = AgentFrame.safeParse(raw);
    if (!frame.success || !verifyAgentMessage(frame.data.msg, frame.data.sig, session.publicKey)) {
      log.warn('agent frame with a bad shape or signature ignored');
      return;
    }
    const msg = AgentMessage.safeParse(frame.data.msg);
    if (!msg.success || msg.data.agentId !== session.agentId) {
      log.warn({ issues: msg.success ? 'agentId mismatch' : msg.error.issues.slice(0, 3) }, 'agent message ignored');
      return;
    }
    try {
      await this.events?.message(session, msg.data);
    } catch (err) {
      log.error({ err, type: msg.data.type }, 'handling an agent message failed');
    }
  }

  async close(): Promise<void> {
    if (this.heartbeat) clearTimeout(this.heartbeat);
    if (this.seenTimer) clearInterval(this.seenTimer);
    for (const s of this.sessions.values()) s.ws.terminate();
    this.sessions.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
