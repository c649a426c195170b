import { z } from 'zod';
import { Id } from '@mtandao/protocol/api';
import type { RequestMeta, RouteContext } from '../http/route.ts';

/** `:id` params. */
export const IdParams = z.object({ id: Id('id') });

/** The audit meta of a signed-in request. */
export function meta(ctx: RouteContext<unknown, unknown, unknown>): RequestMeta {
  return { actor: ctx.actor!, requestId: ctx.requestId, ip: ctx.ip };
}

/** `{ok: true}` for routes with nothing else to say. */
export const Ok = z.object({ ok: z.literal(true) });

/** Runs a write that has nothing to answer, and answers `{ok: true}`. */
export async function done(work: Promise<unknown>): Promise<{ ok: true }> {
  await work;
  return { ok: true };
}
