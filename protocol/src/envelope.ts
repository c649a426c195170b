import * as z from 'zod';
import { CommandTypeSchema, commandPayloads, type CommandType } from './commands.ts';
import { CommandIdentity } from './identity.ts';

/** The protocol version of command envelopes. */
export const ENVELOPE_VERSION = 1;
/**
 * The capability version this build of the protocol speaks; agents announce theirs in `hello` and
 * the controller sends nothing an agent's version does not know (the envelope and payloads are
 * strict: an unknown field is refused).
 * - 1: the commands of SPEC section 6.
 * - 2: `customer.apply` may carry `fresh` (see {@link FRESH_APPLY_CAPABILITY}); envelopes carry
 *   `job` (the job, attempt and chunk) and acks echo it (see identity.ts).
 * - 3: health reports may carry `entries`, the size of each customer menu (ENTRY_COUNTS_CAPABILITY).
 * - 4: agents take `commands` frames, several envelopes under one signature (COMMAND_BATCH_CAPABILITY).
 */
export const CAPABILITY_VERSION = 4;
/** The first capability whose agents take `fresh` on `customer.apply`. */
export const FRESH_APPLY_CAPABILITY = 2;
/** Largest frame an agent accepts from the controller. */
export const AGENT_MAX_PAYLOAD = 1024 * 1024;
/** Largest frame the controller accepts from an agent. */
export const CONTROLLER_MAX_PAYLOAD = 256 * 1024;

/** The signed command envelope of SPEC section 6; extra fields are refused. */
export const CommandEnvelope = z
  .object({
    v: z.literal(ENVELOPE_VERSION),
    id: z.string().min(1).max(64),
    agentId: z.string().min(1).max(64),
    seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    issuedAt: z.iso.datetime(),
    expiresAt: z.iso.datetime(),
    type: CommandTypeSchema,
    payload: z.unknown(),
    /** The job, attempt and chunk this command carries out (capability 2 and up). */
    job: CommandIdentity.optional(),
  })
  .strict();
/** A command envelope before its payload is checked against its type. */
export type CommandEnvelope = z.infer<typeof CommandEnvelope>;

/** A command envelope whose payload matched the schema of its type. */
export type TypedEnvelope<T extends CommandType = CommandType> = Omit<CommandEnvelope, 'type' | 'payload'> & {
  type: T;
  payload: z.infer<(typeof commandPayloads)[T]>;
};

/** Controller → agent frame: an envelope and its Ed25519 signature (base64). */
export const CommandFrame = z.object({ kind: z.literal('command'), envelope: z.record(z.string(), z.unknown()), sig: z.string().max(200) }).strict();
/** A command frame. */
export type CommandFrame = z.infer<typeof CommandFrame>;

/** The first capability whose agents take {@link CommandBatchFrame}. */
export const COMMAND_BATCH_CAPABILITY = 4;
/** Most envelopes in one {@link CommandBatchFrame}. */
export const COMMAND_BATCH_MAX = 256;
/**
 * Controller → agent frame of capability 4: envelopes (each exactly as in a {@link CommandFrame})
 * under one Ed25519 signature over their canonical array, so a pipelined round costs the agent one
 * verification instead of one per command. Every envelope is then checked on its own, in order.
 */
export const CommandBatchFrame = z
  .object({ kind: z.literal('commands'), envelopes: z.array(z.record(z.string(), z.unknown())).min(1).max(COMMAND_BATCH_MAX), sig: z.string().max(200) })
  .strict();
/** A command batch frame. */
export type CommandBatchFrame = z.infer<typeof CommandBatchFrame>;

/** Checks a payload against the schema of its command type. */
export function parsePayload<T extends CommandType>(type: T, payload: unknown): z.ZodSafeParseResult<z.infer<(typeof commandPayloads)[T]>> {
  return commandPayloads[type].safeParse(payload) as z.ZodSafeParseResult<z.infer<(typeof commandPayloads)[T]>>;
}
