import * as z from 'zod';
import { ApplyResult, RouterHealth } from './commands.ts';
import { RouterTransport } from './enums.ts';
import { CommandIdentity } from './identity.ts';
import { HotspotMessage } from './hotspot.ts';
import { RouterName } from './validation.ts';

/** First message on a new connection: who the agent is and how far it has got. */
export const HelloMessage = z
  .object({
    type: z.literal('hello'),
    agentId: z.string().min(1).max(64),
    agentVersion: z.string().max(32),
    capability: z.number().int().min(1),
    lastSeq: z.number().int().min(0),
    routers: z.array(z.object({ name: RouterName, transport: RouterTransport, host: z.string().max(255) }).strict()).max(500),
    sentAt: z.iso.datetime(),
  })
  .strict();
/** The agent's hello. */
export type HelloMessage = z.infer<typeof HelloMessage>;

/** Outcome of one command. `duplicate` answers a redelivered id without applying it again. */
export const AckStatus = z.enum(['applied', 'failed', 'rejected', 'duplicate']);
/** An ack status value. */
export type AckStatus = z.infer<typeof AckStatus>;

/** The agent's answer to one command. */
export const AckMessage = z
  .object({
    type: z.literal('ack'),
    agentId: z.string().min(1).max(64),
    commandId: z.string().min(1).max(64),
    /** The command's `job`, echoed when its envelope carried one. */
    job: CommandIdentity.optional(),
    seq: z.number().int().min(0),
    status: AckStatus,
    result: ApplyResult.optional(),
    error: z
      .object({
        code: z.string().max(64),
        message: z.string().max(2000),
        /** The router's own error text, verbatim, for NOC. */
        routerError: z.string().max(2000).optional(),
        /** Whether sending the command again may succeed (router down) or not (bad input). */
        retryable: z.boolean(),
      })
      .strict()
      .optional(),
    durationMs: z.number().int().min(0),
    at: z.iso.datetime(),
  })
  .strict();
/** An ack. */
export type AckMessage = z.infer<typeof AckMessage>;

/**
 * Several acks in one signed message (one signature to make and check instead of one per ack):
 * what an agent sends when acks finish together, to a controller of capability 2 and up
 * ({@link CONTROLLER_CAPABILITY_HEADER}). Each ack stays whole: its own command, status, result.
 */
export const AcksMessage = z
  .object({ type: z.literal('acks'), agentId: z.string().min(1).max(64), acks: z.array(AckMessage).min(1).max(256), at: z.iso.datetime() })
  .strict();
/** A batch of acks. */
export type AcksMessage = z.infer<typeof AcksMessage>;

/** Response header of the controller's WebSocket upgrade: the capability version it speaks (absent: 1). */
export const CONTROLLER_CAPABILITY_HEADER = 'x-mtandao-capability';
/** The first controller capability that takes {@link AcksMessage}. */
export const ACKS_CAPABILITY = 2;
/** The first controller capability whose health schema takes `entries` (an older one refuses the unknown field, and with it the whole report). */
export const ENTRY_COUNTS_CAPABILITY = 3;

/** Periodic router health from the agent. */
export const HealthMessage = z
  .object({ type: z.literal('health'), agentId: z.string().min(1).max(64), routers: z.array(RouterHealth).max(500), at: z.iso.datetime() })
  .strict();
/** A health report. */
export type HealthMessage = z.infer<typeof HealthMessage>;

/** A log line the agent wants NOC to see beside a job. */
export const LogMessage = z
  .object({
    type: z.literal('log'),
    agentId: z.string().min(1).max(64),
    commandId: z.string().max(64).optional(),
    level: z.enum(['info', 'warn', 'error']),
    message: z.string().max(2000),
    at: z.iso.datetime(),
  })
  .strict();
/** A log event. */
export type LogMessage = z.infer<typeof LogMessage>;

/** Every message an agent sends. */
export const AgentMessage = z.discriminatedUnion('type', [HelloMessage, AckMessage, AcksMessage, HealthMessage, LogMessage, HotspotMessage]);
/** An agent message. */
export type AgentMessage = z.infer<typeof AgentMessage>;

/** Agent → controller frame: a message and the agent's Ed25519 signature (base64). */
export const AgentFrame = z.object({ msg: z.record(z.string(), z.unknown()), sig: z.string().max(200) }).strict();
/** An agent frame. */
export type AgentFrame = z.infer<typeof AgentFrame>;

/** `POST /api/v1/agents/enroll` body. */
export const EnrollRequest = z
  .object({
    token: z.string().min(10).max(200),
    publicKey: z.string().min(40).max(400),
    hostname: z.string().max(255).optional(),
    agentVersion: z.string().max(32).optional(),
  })
  .strict();
/** An enrolment request. */
export type EnrollRequest = z.infer<typeof EnrollRequest>;

/** `POST /api/v1/agents/enroll` answer. */
export const EnrollResponse = z.object({
  agentId: z.string(),
  siteId: z.string(),
  siteName: z.string(),
  controllerPublicKey: z.string(),
  websocketUrl: z.string(),
});
/** An enrolment answer. */
export type EnrollResponse = z.infer<typeof EnrollResponse>;

/** Headers an agent sends on the WebSocket upgrade. */
export const AGENT_AUTH_HEADERS = {
  agentId: 'x-mtandao-agent-id',
  timestamp: 'x-mtandao-timestamp',
  nonce: 'x-mtandao-nonce',
  signature: 'x-mtandao-signature',
} as const;

/** The bytes an agent signs to open its WebSocket: a fresh timestamp and nonce bound to its id. */
export const agentAuthChallenge = (agentId: string, timestamp: string, nonce: string): string => `mtandao-agent-auth-v1\n${agentId}\n${timestamp}\n${nonce}`;
