/**
 * The one check of an agent's WebSocket upgrade (protocol/README.md, Connection), shared by the
 * controller and the agent's test double so the two cannot drift apart. The caller looks the
 * agent's key up by the id, verifies, then spends the nonce (it must never be accepted twice).
 */
import type { KeyObject } from 'node:crypto';
import { AGENT_AUTH_HEADERS, agentAuthChallenge } from './agent-messages.ts';
import { verifyText } from './signing.ts';

/** How far the agent's timestamp may be from the controller's clock. */
export const AGENT_AUTH_SKEW_MS = 60_000;
/** 16 random bytes or more, base64url (22+ characters). */
const NONCE = /^[A-Za-z0-9_-]{22,128}$/;

/** Upgrade headers that passed the shape and clock checks, waiting for the agent's key. */
export interface AgentAuthClaim {
  agentId: string;
  nonce: string;
  /** The agent's timestamp, ms since the epoch. */
  at: number;
  /** Whether the signature is the agent's over the challenge. */
  verify(key: KeyObject): boolean;
}

/** Reads the upgrade headers: a claim to verify, or why they are refused (always HTTP 401). */
export function readAgentAuth(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  now = Date.now(),
): { ok: true; claim: AgentAuthClaim } | { ok: false; reason: string } {
  const header = (name: string): string | undefined => {
    const v = headers[name];
    return typeof v === 'string' ? v : undefined;
  };
  const agentId = header(AGENT_AUTH_HEADERS.agentId);
  const timestamp = header(AGENT_AUTH_HEADERS.timestamp);
  const nonce = header(AGENT_AUTH_HEADERS.nonce);
  const signature = header(AGENT_AUTH_HEADERS.signature);
  if (!agentId || !timestamp || !nonce || !signature) return { ok: false, reason: 'missing agent credentials' };
  if (!NONCE.test(nonce) || agentId.length > 64) return { ok: false, reason: 'malformed agent credentials' };
  const at = Date.parse(timestamp);
  if (!Number.isFinite(at) || Math.abs(now - at) > AGENT_AUTH_SKEW_MS) return { ok: false, reason: 'stale or future timestamp (check the clock)' };
  return { ok: true, claim: { agentId, nonce, at, verify: (key) => verifyText(agentAuthChallenge(agentId, timestamp, nonce), signature, key) } };
}
