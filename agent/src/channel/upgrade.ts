// The agent's side of the WebSocket upgrade: its signed headers, and the words of a refusal.
import { randomBytes, type KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { AGENT_AUTH_HEADERS, agentAuthChallenge } from '@mtandao/protocol';
import { signText } from '@mtandao/protocol/signing';

/** The signed upgrade headers: a fresh timestamp and nonce bound to the agent id (protocol/README.md). */
export function authHeaders(agentId: string, privateKey: KeyObject, now = new Date()): Record<string, string> {
  const timestamp = now.toISOString();
  const nonce = randomBytes(18).toString('base64url');
  return {
    [AGENT_AUTH_HEADERS.agentId]: agentId,
    [AGENT_AUTH_HEADERS.timestamp]: timestamp,
    [AGENT_AUTH_HEADERS.nonce]: nonce,
    [AGENT_AUTH_HEADERS.signature]: signText(agentAuthChallenge(agentId, timestamp, nonce), privateKey),
  };
}

/** Reads at most `limit` bytes of a refused upgrade's body, for the log. */
export function readBody(res: IncomingMessage, limit = 1024, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (): void => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8').slice(0, limit));
    };
    const timer = setTimeout(finish, timeoutMs);
    res.on('data', (chunk: Buffer) => {
      if (size < limit) chunks.push(chunk);
      size += chunk.length;
    });
    res.once('end', finish);
    res.once('close', finish);
    res.once('error', finish);
  });
}

/** The message of a refused upgrade's body (the controller's JSON error, or its text). */
export function refusalReason(body: string): string {
  try {
    const message = (JSON.parse(body) as { error?: { message?: unknown } }).error?.message;
    if (typeof message === 'string') return message;
  } catch {
    // plain text body
  }
  return body.trim().slice(0, 200);
}
