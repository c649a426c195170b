import type { KeyObject } from 'node:crypto';
import { COMMAND_TYPES, type CommandType } from './commands.ts';
import { CommandBatchFrame, CommandEnvelope, CommandFrame, ENVELOPE_VERSION, parsePayload, type TypedEnvelope } from './envelope.ts';
import type { CommandIdentity } from './identity.ts';
import { canonicalize } from './canonical.ts';
import { signCanonicalBatch, signCanonicalEnvelope, signEnvelope, verifyEnvelope, verifyEnvelopeBatch } from './signing.ts';

/** Why an agent refused a command frame. */
export type RejectReason =
  | 'malformed'
  | 'bad-signature'
  | 'unknown-version'
  | 'unknown-type'
  | 'extra-fields'
  | 'wrong-agent'
  | 'expired'
  | 'not-yet-valid'
  | 'replayed-seq'
  | 'bad-payload';

/** The outcome of checking a command frame. */
export type OpenResult = { ok: true; envelope: TypedEnvelope } | { ok: false; reason: RejectReason; detail: string; id?: string; seq?: number };

/** What the agent knows when it checks a frame. */
export interface OpenContext {
  controllerKey: KeyObject;
  agentId: string;
  /** Highest seq already applied; anything at or below is a replay. */
  lastSeq: number;
  now?: Date;
  /** Tolerated clock skew for `issuedAt` in the future. */
  skewMs?: number;
}

const ENVELOPE_KEYS = new Set(Object.keys(CommandEnvelope.shape));

/**
 * Checks a controller frame exactly as SPEC section 6 asks: signature first, then version,
 * shape, type allow-list, addressee, validity window, sequence and payload. Redelivered ids are the
 * caller's concern (it keeps the ack of each id it applied).
 */
export function openCommandFrame(raw: unknown, ctx: OpenContext): OpenResult {
  const frame = CommandFrame.safeParse(raw);
  if (!frame.success) return { ok: false, reason: 'malformed', detail: 'not a command frame' };
  const env = frame.data.envelope;
  if (!verifyEnvelope(env, frame.data.sig, ctx.controllerKey)) return refusal(env, 'bad-signature', 'signature does not verify with the controller key');
  return checkEnvelope(env, ctx);
}

/** A refusal naming the envelope's id and seq when it has readable ones (its rejected ack needs them). */
function refusal(env: Record<string, unknown>, reason: RejectReason, detail: string): OpenResult & { ok: false } {
  const id = typeof env.id === 'string' ? env.id : undefined;
  const seq = typeof env.seq === 'number' ? env.seq : undefined;
  return { ok: false, reason, detail, ...(id ? { id } : {}), ...(seq !== undefined ? { seq } : {}) };
}

/** What a batch frame's signature check gave: its envelopes, or why all of them are refused. */
export type BatchOpenResult =
  | { ok: true; envelopes: Record<string, unknown>[] }
  | { ok: false; reason: 'malformed' | 'bad-signature'; detail: string; refusals: (OpenResult & { ok: false })[] };

/**
 * Checks a {@link CommandBatchFrame}'s one signature. Each envelope must then pass
 * {@link checkEnvelope}, in order, with the lastSeq of that moment: a batch is its commands one
 * after another. A bad signature refuses every envelope (each named for its rejected ack).
 */
export function openCommandBatch(raw: unknown, controllerKey: KeyObject): BatchOpenResult {
  const frame = CommandBatchFrame.safeParse(raw);
  if (!frame.success) return { ok: false, reason: 'malformed', detail: 'not a command batch frame', refusals: [] };
  const { envelopes, sig } = frame.data;
  if (!verifyEnvelopeBatch(envelopes, sig, controllerKey)) {
    const detail = 'batch signature does not verify with the controller key';
    return { ok: false, reason: 'bad-signature', detail, refusals: envelopes.map((env) => refusal(env, 'bad-signature', detail)) };
  }
  return { ok: true, envelopes };
}

/**
 * Every check of {@link openCommandFrame} after the signature: version, shape, type allow-list,
 * addressee, validity window, sequence and payload. Only for an envelope whose signature was
 * checked, alone or with its batch.
 */
export function checkEnvelope(env: Record<string, unknown>, ctx: Omit<OpenContext, 'controllerKey'>): OpenResult {
  const fail = (reason: RejectReason, detail: string): OpenResult => refusal(env, reason, detail);
  if (env.v !== ENVELOPE_VERSION) return fail('unknown-version', `envelope version ${String(env.v)} is not ${ENVELOPE_VERSION}`);
  const extra = Object.keys(env).filter((k) => !ENVELOPE_KEYS.has(k));
  if (extra.length > 0) return fail('extra-fields', `unexpected envelope fields: ${extra.join(', ')}`);
  if (typeof env.type !== 'string' || !COMMAND_TYPES.includes(env.type as CommandType))
    return fail('unknown-type', `command type ${String(env.type)} is not allowed`);
  const parsed = CommandEnvelope.safeParse(env);
  if (!parsed.success) return fail('malformed', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const e = parsed.data;
  if (e.agentId !== ctx.agentId) return fail('wrong-agent', `envelope is for agent ${e.agentId}`);
  const now = (ctx.now ?? new Date()).getTime();
  if (Date.parse(e.expiresAt) <= now) return fail('expired', `envelope expired at ${e.expiresAt}`);
  if (Date.parse(e.issuedAt) > now + (ctx.skewMs ?? 5 * 60_000)) return fail('not-yet-valid', `envelope issued in the future (${e.issuedAt})`);
  if (e.seq <= ctx.lastSeq) return fail('replayed-seq', `seq ${e.seq} is at or below the last applied ${ctx.lastSeq}`);
  const payload = parsePayload(e.type, e.payload);
  if (!payload.success) return fail('bad-payload', payload.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return { ok: true, envelope: { ...e, payload: payload.data } as TypedEnvelope };
}

/** What a command envelope is sealed from. */
export interface CommandFields<T extends CommandType = CommandType> {
  id: string;
  agentId: string;
  seq: number;
  issuedAt: Date;
  expiresAt: Date;
  type: T;
  payload: unknown;
  job?: CommandIdentity;
}

function envelopeOf(fields: CommandFields): Record<string, unknown> {
  return {
    v: ENVELOPE_VERSION,
    id: fields.id,
    agentId: fields.agentId,
    seq: fields.seq,
    issuedAt: fields.issuedAt.toISOString(),
    expiresAt: fields.expiresAt.toISOString(),
    type: fields.type,
    payload: fields.payload,
    ...(fields.job ? { job: fields.job } : {}),
  };
}

/** Builds and signs a command frame (the controller's side, and tests). */
export function sealCommand<T extends CommandType>(fields: CommandFields<T>, key: KeyObject): CommandFrame {
  const envelope = envelopeOf(fields);
  return { kind: 'command', envelope, sig: signEnvelope(envelope, key) };
}

/**
 * Builds and signs a batch of commands as one {@link CommandBatchFrame}'s wire text (capability 4
 * agents): one signature over the canonical array of envelopes, the bytes signed being the bytes sent.
 */
export function sealCommandBatchText(fields: readonly CommandFields[], key: KeyObject): string {
  const canonical = canonicalize(fields.map(envelopeOf));
  return `{"kind":"commands","envelopes":${canonical},"sig":"${signCanonicalBatch(canonical, key)}"}`;
}

/**
 * Builds and signs a command frame as the text that goes on the wire: the envelope is encoded once,
 * canonically, and those bytes are both signed and sent (canonical JSON parses back to the same
 * value and encodes again to the same bytes, so the agent checks exactly what was signed).
 */
export function sealCommandText<T extends CommandType>(fields: CommandFields<T>, key: KeyObject): string {
  const canonical = canonicalize(envelopeOf(fields));
  // base64 needs no escaping in a JSON string
  return `{"kind":"command","envelope":${canonical},"sig":"${signCanonicalEnvelope(canonical, key)}"}`;
}
