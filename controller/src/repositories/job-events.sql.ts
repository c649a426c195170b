// SQL shared by the outbox and the job log: the words of a `sent` event, and storing it for attempts
// whose job row is about to forget them.

/** The `sent` line of the attempt a job row (alias `t`) holds: the same words whether stored or read from the row. */
export const SENT_MESSAGE = (t: string): string => `format('sent to agent %s (attempt %s, seq %s)', ${t}.agent_id, ${t}.attempts, ${t}.seq)`;

/**
 * Stores the `sent` event of the attempt held by rows `t` of `from` (those matching `where`) (with the time it was sent),
 * unless one is stored already: a job's row shows only its last attempt, so an attempt whose job
 * goes back to the queue, or is sent again, is written down before the row moves on.
 */
export const STORE_SENT = (from: string, t: string, where = 'true'): string =>
  `INSERT INTO job_events (job_id, at, kind, message, agent_id, command_id)
   SELECT ${t}.id, ${t}.sent_at, 'sent', ${SENT_MESSAGE(t)}, ${t}.agent_id, ${t}.command_id FROM ${from}
    WHERE (${where}) AND ${t}.sent_at IS NOT NULL AND ${t}.command_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM job_events s WHERE s.job_id = ${t}.id AND s.kind = 'sent' AND s.command_id = ${t}.command_id)`;
