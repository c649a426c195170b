import * as z from 'zod';

/** Customer usernames: 3–64 letters, digits, `.`, `_`, `-`, `@` (safe on RouterOS and in the CLI). */
export const USERNAME_PATTERN = /^[A-Za-z0-9._@-]{3,64}$/;

/** A customer username as it lands on the router. */
export const Username = z.string().regex(USERNAME_PATTERN, 'Username must be 3–64 letters, digits, ".", "_", "-" or "@"');

/** Printable text without control characters: passwords land on the router verbatim. */
export const PRINTABLE_PATTERN = /^[^\u0000-\u001f\u007f]*$/;

// Windows-1252's printable characters beyond Latin-1 (0x80–0x9F).
const WIN1252_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');

/** Whether RouterOS can store the text: it keeps strings as Windows-1252 bytes. */
export function isWin1252(text: string): boolean {
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80 || (c >= 0xa0 && c <= 0xff) || WIN1252_EXTRA.has(ch)) continue;
    return false;
  }
  return true;
}

/** The message for text a router cannot store. */
export const WIN1252_MESSAGE = 'must use only characters a MikroTik router can store (Latin letters, digits and Western European accents)';

/** A customer password: any printable text of 1–64 characters that a router can store. */
export const RouterPassword = z
  .string()
  .min(1, 'Password is required')
  .max(64, 'Password must be at most 64 characters')
  .regex(PRINTABLE_PATTERN, 'Password must not contain control characters')
  .refine(isWin1252, `Password ${WIN1252_MESSAGE}`);

/** An id that becomes part of a router comment marker (`mtandao:<id>`). */
export const MarkerId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1–64 letters, digits, "_" or "-"');

/** A RouterOS rate in its own notation: `512k`, `10M`, `1G` or plain bits per second. */
export const RATE_PATTERN = /^[0-9]{1,10}(?:\.[0-9]{1,3})?[kKMG]?$/;

/** A speed in RouterOS notation ("10M", "512k"). */
export const Rate = z.string().regex(RATE_PATTERN, 'Speed must be a number with an optional k, M or G suffix, e.g. "10M"');

/** A dotted-quad IPv4 address. */
export const IPV4_PATTERN = /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$/;

/** An IPv4 address string. */
export const Ipv4 = z.string().regex(IPV4_PATTERN, 'Must be an IPv4 address');

/** A router name: unique within a site; printable, no quotes or control characters. */
export const RouterName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._ -]+$/, 'Router name may hold letters, digits, space, ".", "_" and "-"');
