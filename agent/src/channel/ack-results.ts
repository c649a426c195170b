// What an ack says of a command's outcome: a router's error in its own words, a result kept within
// the ack schema and the controller's frame limit.
import { ApplyResult, CONTROLLER_MAX_PAYLOAD, type AckMessage } from '@mtandao/protocol';
import { RouterError } from '../drivers/types.ts';
import type { LineLogger } from '../logger.ts';

/** The error an ack carries. */
export type AckError = NonNullable<AckMessage['error']>;

/** Text cut to `max` characters, an ellipsis marking the cut. */
export const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** Turns what an executor threw into the ack's error: the router's words kept verbatim for NOC. */
export function describeFailure(err: unknown): AckError {
  if (err instanceof RouterError) {
    return {
      code: `router-${err.category}`,
      message: clip(err.message, 2000),
      ...(err.routerMessage !== undefined ? { routerError: clip(err.routerMessage, 2000) } : {}),
      retryable: err.retryable,
    };
  }
  return { code: 'agent-error', message: clip(err instanceof Error ? err.message : String(err), 2000), retryable: false };
}

/**
 * Whether a result is of the everyday shape (change lines and counts, as trimmed by fitResult) and
 * so surely within the ack schema and the frame: the check the schema would make, without its cost.
 */
function plainResult(result: ApplyResult): boolean {
  let chars = 0;
  for (const key in result) if (key !== 'changes' && key !== 'summary') return false;
  for (const line of result.changes) {
    if (typeof line !== 'string') return false;
    chars += line.length;
  }
  // a character takes at most 6 bytes in JSON (\u0000): 20 000 of them fit a frame with room to spare
  if (chars > 20_000) return false;
  if (result.summary === undefined) return true;
  if (typeof result.summary !== 'object' || result.summary === null || Array.isArray(result.summary)) return false;
  let keys = 0;
  for (const key in result.summary) {
    if (++keys > 64 || key.length > 64 || !Number.isSafeInteger(result.summary[key])) return false;
  }
  return true;
}

/** Keeps a result within the ack schema and the controller's frame limit. */
export function fitResult(result: ApplyResult, logger: LineLogger): { result?: ApplyResult; error?: AckError } {
  const trimmed: ApplyResult = { ...result, changes: result.changes.slice(0, 200).map((c) => clip(c, 300)) };
  if (result.changes.length > 200) trimmed.summary = { ...result.summary, changesNotListed: result.changes.length - 200 };
  if (plainResult(trimmed)) return { result: trimmed };
  const parsed = ApplyResult.safeParse(trimmed);
  if (!parsed.success) {
    logger.warn({ issues: parsed.error.issues.slice(0, 5) }, 'executor returned a result outside the ack schema; dropped');
    return { error: { code: 'bad-result', message: 'the agent could not report this result', retryable: false } };
  }
  if (JSON.stringify(parsed.data).length > CONTROLLER_MAX_PAYLOAD - 4096) {
    return { error: { code: 'result-too-large', message: 'the result does not fit in one frame; ask for a smaller page', retryable: false } };
  }
  return { result: parsed.data };
}
