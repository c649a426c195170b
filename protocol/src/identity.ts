/**
 * Who a command is: the job it carries out, the attempt, and for a chunked reconcile which chunk.
 * The controller puts these in the envelope (`job`, signed with it) for agents of capability 2 and
 * up; the agent logs them and echoes them in its ack, so neither side reads them out of the id.
 * Agents of capability 1 get ids of the form `j<jobId>-<attempt>-<random>[.<chunk>]` and nothing
 * else: {@link identityOf} is the one place that still reads that form.
 */
import * as z from 'zod';

/** The job, attempt and chunk of one command. */
export const CommandIdentity = z
  .object({
    /** The controller's provisioning job. */
    jobId: z.string().regex(/^\d{1,19}$/),
    /** 1 for the first delivery of the job, then one more per retry (a redelivery keeps it). */
    attempt: z.number().int().min(1).max(1_000_000),
    /** Chunks of a reconcile: this one's index (from 0) and how many there are. */
    chunk: z
      .object({ index: z.number().int().min(0), count: z.number().int().min(1) })
      .strict()
      .optional(),
    /** The controller's id of the router (the agent knows routers by name): log lines on both sides join on it. */
    routerId: z
      .string()
      .regex(/^\d{1,19}$/)
      .optional(),
  })
  .strict();
/** A command's identity. */
export type CommandIdentity = z.infer<typeof CommandIdentity>;

/** The first capability whose agents take `job` in the envelope and echo it in acks. */
export const JOB_IDENTITY_CAPABILITY = 2;

const LEGACY_ID = /^j(\d{1,19})-(\d{1,7})-[^.]*(?:\.(\d{1,6}))?$/;

/**
 * A command's identity: the explicit one when it has it, else read from a capability-1 id. A chunk
 * read from an id has no count (that form never carried one): `count` is 0 there.
 */
export function identityOf(
  commandId: string,
  explicit?: CommandIdentity,
): (Omit<CommandIdentity, 'chunk'> & { chunk?: { index: number; count: number } }) | undefined {
  if (explicit) return explicit;
  const m = LEGACY_ID.exec(commandId);
  if (!m) return undefined;
  return { jobId: m[1]!, attempt: Number(m[2]), ...(m[3] !== undefined ? { chunk: { index: Number(m[3]), count: 0 } } : {}) };
}

/** The command id of a job's delivery: the job's own id for its last (or only) chunk, `<id>.<n>` for the others. */
export const chunkCommandId = (jobCommandId: string, index: number, count: number): string => (index === count - 1 ? jobCommandId : `${jobCommandId}.${index}`);
