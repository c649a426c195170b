import { randomUUID, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import {
  AGENT_AUTH_HEADERS,
  AgentFrame,
  AgentMessage,
  CONTROLLER_CAPABILITY_HEADER,
  CONTROLLER_MAX_PAYLOAD,
  EnrollRequest,
  type AckMessage,
  type CommandFrame,
  type CommandType,
  type EnrollResponse,
} from '@mtandao/protocol';
import {
  generateSigningKeys,
  loadPrivateKey,
  loadPublicKey,
  readAgentAuth,
  sealCommand,
  sealCommandBatchText,
  verifyAgentMessage,
  type CommandFields,
} from '@mtandao/protocol/signing';

/** One upgrade attempt as the fake controller saw it. */
export interface UpgradeRecord {
  headers: IncomingMessage['headers'];
  accepted: boolean;
  reason?: string;
}

/** One frame an agent sent, with whether its signature verified. */
export interface ReceivedMessage {
  msg: AgentMessage;
  verified: boolean;
  at: number;
}

/** Options of the fake controller. */
export interface FakeControllerOptions {
  /** Tokens `POST /api/v1/agents/enroll` accepts (each once). */
  tokens?: string[];
  /** Answer the agents' pings (default true); false plays a controller that went silent. */
  autoPong?: boolean;
  /** The capability announced on the upgrade (`x-mtandao-capability`); none by default, as a capability-1 controller. */
  capability?: number;
}

/**
 * A controller stand-in for agent tests: real HTTP for enrolment, a real `ws` server at `/agent`
 * that authenticates the upgrade as protocol/README.md says (401 before any WebSocket), commands
 * sealed with a controller key, and every agent frame checked against the agent's public key.
 */
export class FakeController {
  readonly key: { privateKey: KeyObject; publicKeyPem: string };
  readonly upgrades: UpgradeRecord[] = [];
  readonly messages: ReceivedMessage[] = [];
  /** Answer every upgrade 401 (credentials revoked). */
  refuseUpgrades = false;
  private readonly agents = new Map<string, KeyObject>();
  private readonly tokens: Set<string>;
  private readonly nonces = new Set<string>();
  private readonly seqs = new Map<string, number>();
  private readonly sockets = new Set<WebSocket>();
  private readonly rawSockets = new Set<Socket>();
  private waiters: (() => void)[] = [];
  private readonly server: Server;
  private readonly wss: WebSocketServer;

  private constructor(options: FakeControllerOptions) {
    const pair = generateSigningKeys();
    this.key = { privateKey: loadPrivateKey(pair.privateKey), publicKeyPem: pair.publicKey };
    this.tokens = new Set(options.tokens ?? []);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: CONTROLLER_MAX_PAYLOAD, autoPong: options.autoPong ?? true });
    const { capability } = options;
    if (capability !== undefined) this.wss.on('headers', (headers) => headers.push(`${CONTROLLER_CAPABILITY_HEADER}: ${capability}`));
    this.server = createServer((req, res) => void this.handleHttp(req, res));
    this.server.on('connection', (socket) => {
      this.rawSockets.add(socket);
      socket.on('close', () => this.rawSockets.delete(socket));
    });
    this.server.on('upgrade', (req, socket, head) => this.handleUpgrade(req, socket as Socket, head));
  }

  static async start(options: FakeControllerOptions = {}): Promise<FakeController> {
    const controller = new FakeController(options);
    await new Promise<void>((resolve) => controller.server.listen(0, '127.0.0.1', resolve));
    return controller;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Open agent connections. */
  get connections(): number {
    return [...this.sockets].filter((s) => s.readyState === WebSocket.OPEN).length;
  }

  /** Makes a one-time enrolment token. */
  issueToken(): string {
    const token = `tok-${randomUUID()}`;
    this.tokens.add(token);
    return token;
  }

  /** Knows an agent without the enrolment round trip. */
  registerAgent(agentId: string, publicKeyPem: string): void {
    this.agents.set(agentId, loadPublicKey(publicKeyPem));
  }

  /** Seals a command for `agentId` with the controller key; seq rises per agent unless given. */
  seal<T extends CommandType>(
    agentId: string,
    type: T,
    payload: unknown,
    overrides: Partial<{ id: string; seq: number; issuedAt: Date; expiresAt: Date; key: KeyObject; forAgent: string }> = {},
  ): CommandFrame {
    const seq = overrides.seq ?? (this.seqs.get(agentId) ?? 0) + 1;
    this.seqs.set(agentId, Math.max(seq, this.seqs.get(agentId) ?? 0));
    return sealCommand(
      {
        id: overrides.id ?? randomUUID(),
        agentId: overrides.forAgent ?? agentId,
        seq,
        issuedAt: overrides.issuedAt ?? new Date(),
        expiresAt: overrides.expiresAt ?? new Date(Date.now() + 3_600_000),
        type,
        payload,
      },
      overrides.key ?? this.key.privateKey,
    );
  }

  /** Seals commands for `agentId` as one batch frame (capability 4), seqs rising; answers its wire text and the ids in order. */
  sealBatch(
    agentId: string,
    commands: { type: CommandType; payload: unknown; seq?: number; id?: string; forAgent?: string }[],
    key = this.key.privateKey,
  ): { text: string; ids: string[] } {
    const fields: CommandFields[] = commands.map((c) => {
      const seq = c.seq ?? (this.seqs.get(agentId) ?? 0) + 1;
      this.seqs.set(agentId, Math.max(seq, this.seqs.get(agentId) ?? 0));
      return {
        id: c.id ?? randomUUID(),
        agentId: c.forAgent ?? agentId,
        seq,
        issuedAt: new Date(),
        expiresAt: new Date(Date.now() + 3_600_000),
        type: c.type,
        payload: c.payload,
      };
    });
    return { text: sealCommandBatchText(fields, key), ids: fields.map((f) => f.id) };
  }

  /** Sends a frame (or raw text) to every connected agent. */
  send(frame: CommandFrame | string): void {
    const text = typeof frame === 'string' ? frame : JSON.stringify(frame);
    for (const ws of this.sockets) if (ws.readyState === WebSocket.OPEN) ws.send(text);
  }

  /** Sends frames in one socket write, as the controller writes a claimed round (it corks the socket). */
  sendAll(frames: (CommandFrame | string)[]): void {
    for (const ws of this.sockets) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      const socket = (ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
      socket?.cork();
      for (const f of frames) ws.send(typeof f === 'string' ? f : JSON.stringify(f));
      socket?.uncork();
    }
  }

  /** Cuts every agent connection without a close handshake. */
  dropAll(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  /** Sends a frame and resolves with the first ack for its id. */
  async deliver(frame: CommandFrame | { envelope: { id: string } }): Promise<AckMessage> {
    const id = frame.envelope.id as string;
    this.send(JSON.stringify(frame));
    return this.waitFor((m): m is AckMessage => m.type === 'ack' && m.commandId === id);
  }

  /** Acks received for a command id. */
  acks(commandId: string): AckMessage[] {
    return this.messages.filter((m) => m.msg.type === 'ack' && m.msg.commandId === commandId).map((m) => m.msg as AckMessage);
  }

  /** Resolves with the first received message (past or future) that matches. */
  async waitFor<T extends AgentMessage>(match: (msg: AgentMessage) => msg is T, timeoutMs?: number): Promise<T>;
  async waitFor(match: (msg: AgentMessage) => boolean, timeoutMs?: number): Promise<AgentMessage>;
  async waitFor(match: (msg: AgentMessage) => boolean, timeoutMs = 5000): Promise<AgentMessage> {
    const found = await this.until(() => this.messages.find((m) => match(m.msg))?.msg, timeoutMs);
    return found;
  }

  /** Resolves once `check` returns something other than undefined/false (re-checked on every event). */
  async until<T>(check: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value !== undefined && value !== false) return value;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`fake controller: condition not met within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    for (const socket of this.rawSockets) socket.destroy();
    this.wss.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private notify(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  private async handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || req.url !== '/api/v1/agents/enroll') return reply(404, { error: { message: 'Not found', code: 'not_found' } });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const parsed = EnrollRequest.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    if (!parsed.success) return reply(400, { error: { message: 'Invalid enrolment request', code: 'validation_failed' } });
    if (!this.tokens.delete(parsed.data.token))
      return reply(401, { error: { message: 'Enrollment token is invalid, expired or already used', code: 'invalid_token' } });
    const agentId = `agt_${randomUUID().slice(0, 8)}`;
    this.registerAgent(agentId, parsed.data.publicKey);
    const answer: EnrollResponse = {
      agentId,
      siteId: 'site_1',
      siteName: 'Test POP',
      controllerPublicKey: this.key.publicKeyPem,
      websocketUrl: `ws://127.0.0.1:${this.port}/agent`,
    };
    reply(201, answer);
  }

  private handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const reason = this.refuseUpgrades ? 'refused by test' : this.checkAuth(req);
    this.upgrades.push({ headers: req.headers, accepted: !reason, ...(reason ? { reason } : {}) });
    this.notify();
    if (reason) {
      const body = JSON.stringify({ error: { message: reason, code: 'unauthorized' } });
      socket.end(
        `HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req.headers[AGENT_AUTH_HEADERS.agentId] as string));
  }

  private checkAuth(req: IncomingMessage): string | undefined {
    if (req.url !== '/agent') return 'wrong path';
    // the controller's own check (protocol/src/agent-auth.ts); only the key store and nonce memory are the double's
    const read = readAgentAuth(req.headers);
    if (!read.ok) return read.reason;
    const key = this.agents.get(read.claim.agentId);
    if (!key) return 'unknown or retired agent';
    if (!read.claim.verify(key)) return 'bad signature';
    if (this.nonces.has(read.claim.nonce)) return 'replayed challenge';
    this.nonces.add(read.claim.nonce);
    return undefined;
  }

  private onConnection(ws: WebSocket, agentId: string): void {
    this.sockets.add(ws);
    this.notify();
    ws.on('close', () => {
      this.sockets.delete(ws);
      this.notify();
    });
    ws.on('message', (data) => {
      const frame = AgentFrame.parse(JSON.parse(data.toString()));
      const msg = AgentMessage.parse(frame.msg);
      const key = this.agents.get(agentId)!;
      this.messages.push({ msg, verified: msg.agentId === agentId && verifyAgentMessage(frame.msg, frame.sig, key), at: Date.now() });
      this.notify();
    });
  }
}
