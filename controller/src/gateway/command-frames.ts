import { chunkCommandId, JOB_IDENTITY_CAPABILITY } from '@mtandao/protocol';
import { sealCommandText } from '@mtandao/protocol/signing';
import type { KeyObject } from 'node:crypto';
import type { ClaimedJob } from '../repositories/outbox.repository.ts';
import type { BuiltCommand } from './desired-state.ts';

/** How long an envelope stays valid: redeliveries after this are re-signed. */
const ENVELOPE_TTL_MS = 10 * 60_000;

/**
 * The signed frames of one claimed job, in seq order: one per command (a reconcile is chunked),
 * each as the text that goes on the wire (the envelope encoded once, for its signature and the
 * socket alike). Chunks take the seqs reserved before the job's own; the last chunk carries the
 * job's command id. Agents that speak job identity get it explicitly (`job`), older ones read it from the id.
 */
export function commandFrames(
  job: ClaimedJob,
  commands: BuiltCommand[],
  to: { agentId: string; capability: number },
  signingKey: KeyObject,
  now = new Date(),
): string[] {
  const expiresAt = new Date(Math.min(now.getTime() + ENVELOPE_TTL_MS, new Date(job.expires_at).getTime()));
  const n = commands.length;
  const lastSeq = Number(job.seq);
  const explicit = to.capability >= JOB_IDENTITY_CAPABILITY;
  return commands.map((cmd, i) => {
    const identity = explicit
      ? { job: { jobId: String(job.id), attempt: job.attempts, ...(n > 1 ? { chunk: { index: i, count: n } } : {}), routerId: String(job.router_id) } }
      : {};
    const id = chunkCommandId(job.command_id, i, n);
    return sealCommandText(
      { id, agentId: to.agentId, seq: lastSeq - (n - 1 - i), issuedAt: now, expiresAt, type: cmd.type, payload: cmd.payload, ...identity },
      signingKey,
    );
  });
}
