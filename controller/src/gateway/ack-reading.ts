import { identityOf, type AckMessage } from '@mtandao/protocol';

/** Rejections that mean "send it again with a fresh seq", not "this command is bad". */
const REQUEUE_REASONS = new Set(['replayed-seq', 'expired', 'not-yet-valid']);

/** Jittered exponential backoff for a retry: 1 s, 2 s, 4 s … up to a minute, each between half and all of it. */
export function retryDelayMs(attempts: number): number {
  const ceiling = Math.min(60_000, 1000 * 2 ** Math.max(0, attempts - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** What an agent's ack means for its job, and the words the job's log gets. */
export type AckReading =
  /** A chunk of a reconcile before its last one arrived: progress, the job stays sent. */
  | { kind: 'progress'; commandId: string; event: string }
  | { kind: 'applied'; commandId: string; result: Record<string, unknown> | null; event: string }
  /** The envelope was refused for its seq or time: sent again at once with a new seq. */
  | { kind: 'requeue'; commandId: string; error: string; event: string }
  /** The router could not do it now: tried again after a backoff (the delay is decided with the job's attempts). */
  | { kind: 'retry'; commandId: string; error: string; routerError: string | null }
  | { kind: 'failed'; commandId: string; error: string; routerError: string | null; event: string };

/**
 * Reads an ack: the job's command id (a chunk's `.n` taken off) and what it means. A chunk before a
 * reconcile's last is progress; the last one (the job's own id) settles the job.
 */
export function readAck(ack: AckMessage): AckReading {
  const chunk = identityOf(ack.commandId, ack.job)?.chunk;
  const partial = chunk && (chunk.count === 0 || chunk.index < chunk.count - 1) && ack.commandId.endsWith(`.${chunk.index}`);
  const failed = ack.status === 'failed' || ack.status === 'rejected' || (ack.status === 'duplicate' && ack.error);
  const commandId = partial ? ack.commandId.slice(0, -`.${chunk.index}`.length) : ack.commandId;
  if (partial && !failed) return { kind: 'progress', commandId, event: `reconcile chunk ${chunk.index + 1} received by the agent` };
  if (!failed) {
    const changes = ack.result?.changes ?? [];
    const listed = changes.length ? `: ${changes.slice(0, 5).join('; ')}${changes.length > 5 ? ` … (+${changes.length - 5})` : ''}` : ': nothing to change';
    const again = ack.status === 'duplicate' ? ' (already applied: acknowledged again)' : '';
    return {
      kind: 'applied',
      commandId,
      result: (ack.result as Record<string, unknown> | undefined) ?? null,
      event: `applied on the router in ${ack.durationMs} ms${again}${listed}`,
    };
  }
  const err = ack.error;
  if (ack.status === 'rejected' && err && REQUEUE_REASONS.has(err.code))
    return {
      kind: 'requeue',
      commandId,
      error: `agent rejected the envelope (${err.code}): ${err.message}`,
      event: `agent rejected the envelope (${err.code}); sending it again with a new seq`,
    };
  if (err?.retryable) return { kind: 'retry', commandId, error: err.message, routerError: err.routerError ?? null };
  const message = err ? `${ack.status === 'rejected' ? `agent rejected the command (${err.code})` : 'failed'}: ${err.message}` : `agent answered ${ack.status}`;
  return { kind: 'failed', commandId, error: message, routerError: err?.routerError ?? null, event: message };
}
