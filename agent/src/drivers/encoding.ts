/**
 * RouterOS strings are bytes. Winbox, the API and the terminal show them as Windows-1252, so the
 * drivers and the emulator agree on one rule: a JavaScript string travels as its Windows-1252
 * bytes, and a string that has no Windows-1252 form is refused before anything is sent (a silent
 * `?` in a customer's password is worse than an error). Bytes 0x81, 0x8D, 0x8F, 0x90 and 0x9D have
 * no glyph; they map to U+0081… as WHATWG's decoder does, so every byte string round-trips.
 */

const HIGH: readonly number[] = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d,
  0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];
const ENCODE_HIGH = new Map<number, number>(HIGH.map((cp, i) => [cp, 0x80 + i]));
const ASCII_ONLY = /^[\x00-\x7f]*$/;
const C1_RANGE = /[\x80-\x9f]/g;

/** A string that has no Windows-1252 form. */
export class EncodingError extends Error {
  constructor(
    readonly value: string,
    readonly position: number,
  ) {
    super(`character U+${(value.codePointAt(position) ?? 0).toString(16).toUpperCase().padStart(4, '0')} at position ${position} has no Windows-1252 form`);
    this.name = 'EncodingError';
  }
}

/** The byte a code point is written as, or undefined when Windows-1252 has none. */
function byteOf(cp: number): number | undefined {
  if (cp < 0x80 || (cp >= 0xa0 && cp <= 0xff)) return cp;
  return ENCODE_HIGH.get(cp);
}

/** Where the first character without a Windows-1252 form is, or -1. */
export function findUnencodable(value: string): number {
  if (ASCII_ONLY.test(value)) return -1;
  for (let i = 0; i < value.length; i++) {
    if (byteOf(value.charCodeAt(i)) === undefined) return i;
  }
  return -1;
}

/** Encodes a string as Windows-1252 bytes; throws {@link EncodingError} when it cannot. */
export function encodeWin1252(value: string): Buffer {
  if (ASCII_ONLY.test(value)) return Buffer.from(value, 'latin1');
  const out = Buffer.allocUnsafe(value.length);
  for (let i = 0; i < value.length; i++) {
    const b = byteOf(value.charCodeAt(i));
    if (b === undefined) throw new EncodingError(value, i);
    out[i] = b;
  }
  return out;
}

/** Decodes Windows-1252 bytes; never fails. */
export function decodeWin1252(bytes: Buffer, start = 0, end = bytes.length): string {
  const latin1 = bytes.toString('latin1', start, end);
  return latin1.replace(C1_RANGE, (c) => String.fromCharCode(HIGH[c.charCodeAt(0) - 0x80] ?? c.charCodeAt(0)));
}
