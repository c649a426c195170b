import ipaddr from 'ipaddr.js';

/** An IPv4 address as an unsigned 32-bit number. */
export type Ip = number;

/** Parses a dotted quad, or undefined. */
export function parseIp(text: string): Ip | undefined {
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return undefined;
  const b = ipaddr.IPv4.parse(text).toByteArray();
  return ((b[0]! << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!;
}

/** Formats a number as a dotted quad. */
export const formatIp = (ip: Ip): string => `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;

/** An IPv4 block. */
export interface Block {
  base: Ip;
  prefix: number;
  /** first and last address of the block (network and broadcast). */
  first: Ip;
  last: Ip;
}

/** Parses "10.64.0.0/16"; the address must be the block's network address. */
export function parseBlock(text: string): Block | undefined {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(text.trim());
  if (!m) return undefined;
  const base = parseIp(m[1]!);
  const prefix = Number(m[2]);
  if (base === undefined || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) return undefined;
  return { base, prefix, first: base, last: base + size - 1 };
}

/** A closed range of addresses. */
export type Range = [Ip, Ip];

/** Sorts and merges overlapping or touching ranges. */
export function mergeRanges(ranges: Range[]): Range[] {
  const sorted = ranges.filter(([a, b]) => a <= b).sort((x, y) => x[0] - y[0]);
  const out: Range[] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** Intersects two sorted, merged range lists. */
export function intersectRanges(a: Range[], b: Range[]): Range[] {
  const out: Range[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const lo = Math.max(a[i]![0], b[j]![0]);
    const hi = Math.min(a[i]![1], b[j]![1]);
    if (lo <= hi) out.push([lo, hi]);
    if (a[i]![1] < b[j]![1]) i++;
    else j++;
  }
  return out;
}

/** Removes sorted, merged `cut` ranges from sorted, merged `from` ranges. */
export function subtractRanges(from: Range[], cut: Range[]): Range[] {
  const out: Range[] = [];
  let j = 0;
  for (const [a0, b] of from) {
    let a = a0;
    while (j < cut.length && cut[j]![1] < a) j++;
    let k = j;
    while (a <= b) {
      const c = cut[k];
      if (!c || c[0] > b) {
        out.push([a, b]);
        break;
      }
      if (c[0] > a) out.push([a, c[0] - 1]);
      a = Math.max(a, c[1] + 1);
      k++;
    }
  }
  return out;
}

/** Values 0–255 whose decimal text starts with `digits` (the octet being typed). */
function octetsStartingWith(digits: string): Range[] {
  if (digits === '') return [[0, 255]];
  const out: Range[] = [];
  const n = Number(digits);
  // "2" → 2, 20–29, 200–255; "25" → 25, 250–255; "0" → only 0 (no leading zeros in a dotted quad)
  if (n <= 255) out.push([n, n]);
  if (n !== 0) {
    for (let scale = 10; n * scale <= 255; scale *= 10) out.push([n * scale, Math.min(n * scale + scale - 1, 255)]);
  }
  return mergeRanges(out);
}

/**
 * The address ranges whose dotted text starts with `prefix`, as staff type it: complete octets
 * match exactly and the octet being typed matches as text. `10.0.3` → 10.0.3.x and 10.0.30–39.x;
 * `10.0.3.` → 10.0.3.x; `10.0.3.1` → 10.0.3.1, .10–.19 and .100–.199. Undefined when it cannot
 * match any address.
 */
export function prefixRanges(prefix: string): Range[] | undefined {
  const text = prefix.trim();
  if (text === '') return [[0, 0xffffffff]];
  if (!/^\d{1,3}(\.\d{1,3}){0,2}(\.\d{0,3})?$/.test(text)) return undefined;
  const parts = text.split('.');
  const complete = parts.slice(0, -1).map(Number);
  if (complete.some((o) => o > 255)) return undefined;
  const partial = parts[parts.length - 1]!;
  if (partial.length > 1 && partial.startsWith('0')) return undefined;
  const position = complete.length; // index of the octet being typed
  let fixed = 0;
  for (const o of complete) fixed = fixed * 256 + o;
  const span = 2 ** (8 * (3 - position)); // addresses under one value of the partial octet
  const ranges = octetsStartingWith(partial).map(([a, b]): Range => {
    const base = (fixed * 256 + a) * span;
    return [base, (fixed * 256 + b) * span + span - 1];
  });
  return ranges.length > 0 ? mergeRanges(ranges) : undefined;
}
