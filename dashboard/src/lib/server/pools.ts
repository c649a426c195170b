import type { Values } from './forms';

/** One item a line (or comma separated), blanks dropped: how staff type network blocks and reserved ranges. */
export const lines = (text: string | undefined): string[] =>
  (text ?? '')
    .split(/[\n,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

/** A pool body from the pool form. */
export function poolBody(v: Values) {
  return { name: v.name ?? '', networks: lines(v.networks), gateway: v.gateway?.trim() || null, reserved: lines(v.reserved) };
}
