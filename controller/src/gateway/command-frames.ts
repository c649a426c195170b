import { AGENT_MAX_PAYLOAD, chunkCommandId, COMMAND_BATCH_CAPABILITY, COMMAND_BATCH_MAX, JOB_IDENTITY_CAPABILITY } from '@mtandao/protocol';
import { sealCommandBatchText, sealCommandText, type CommandFields } from '@mtandao/protocol/signing';
import type { KeyObject } from 'node:crypto';
import type { ClaimedJob } from '../repositories/outbox.repository.ts';
import type { BuiltCommand } from './desired-state.ts';

/** How long an envelope stays valid: redeliveries after this are re-signed. */
const ENVELOPE_TTL_MS = 10 * 60_000;

/**
 * The envelopes of one claimed job, in seq order: one per command (a reconcile is chunked). Chunks
 * take the seqs reserved before the job's own; the last chunk carries the job's command id. Agents
 * that speak job identity get it explicitly (`job`), older ones read it from the id.
 */
export function commandFields(job: ClaimedJob, commands: BuiltCommand[], to: { agentId: string; capability: number }, now = new Date()): CommandFields[] {
  const expiresAt = new Date(Math.min(now.getTime() + ENVELOPE_TTL_MS, new Date(job.expires_at).getTime()));
  const n = commands.length;
  const lastSeq = Number(job.seq);
  const explicit = to.capability >= JOB_IDENTITY_CAPABILITY;
  return commands.map((cmd, i) => {
    const identity = explicit
      ? { job: { jobId: String(job.id), attempt: job.attempts, ...(n > 1 ? { chunk: { index: i, count: n } } : {}), routerId: String(job.router_id) } }
      : {};
    const id = chunkCommandId(job.command_id, i, n);
    return { id, agentId: to.agentId, seq: lastSeq - (n - 1 - i), issuedAt: now, expiresAt, type: cmd.type, payload: cmd.payload, ...identity };
  });
}

/**
 * The signed frames of one claimed job, each as the text that goes on the wire (the envelope
 * encoded once, for its signature and the socket alike).
 */
export function commandFrames(
  job: ClaimedJob,
  commands: BuiltCommand[],
  to: { agentId: string; capability: number },
  signingKey: KeyObject,
  now = new Date(),
): string[] {
  return commandFields(job, commands, to, now).map((f) => sealCommandText(f, signingKey));
}

/** Whether envelopes may go to this agent several under one signature. */
export const takesBatches = (capability: number): boolean => capability >= COMMAND_BATCH_CAPABILITY;

/**
 * The frames of consecutive envelopes (in seq order) for an agent that takes batches: one frame
 * under one signature, so a claimed round costs one Ed25519 signature here and one verification
 * at the agent instead of one per command; each envelope is still checked on its own there. A lone
 * envelope goes as an ordinary command frame; a batch of more than the protocol's most, or too
 * large for half the agent's frame limit, is split in halves.
 */
export function batchFrames(fields: CommandFields[], signingKey: KeyObject): string[] {
  if (fields.length === 1) return [sealCommandText(fields[0]!, signingKey)];
  if (fields.length <= COMMAND_BATCH_MAX) {
    const text = sealCommandBatchText(fields, signingKey);
    if (text.length <= AGENT_MAX_PAYLOAD / 2) return [text];
  }
  const half = fields.length >> 1;
  return [...batchFrames(fields.slice(0, half), signingKey), ...batchFrames(fields.slice(half), signingKey)];
}
