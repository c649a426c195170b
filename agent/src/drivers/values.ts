/**
 * RouterOS value formats, shared by the emulator (which stores what RouterOS would read back) and
 * the desired-state logic (which must compare what it wants with what the router reports, or every
 * reconcile would rewrite `5M/10M` over `5000000/10000000` forever).
 */

const RATE = /^([0-9]+(?:\.[0-9]+)?)([kKMG]?)$/;
const RATE_FACTORS: Record<string, number> = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9 };

/** Bits per second of a RouterOS rate (`512k`, `10M`, `1.5M`, `2000000`), or undefined. */
export function parseRate(text: string): number | undefined {
  const m = RATE.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (RATE_FACTORS[m[2] ?? ''] ?? 1));
}

/**
 * A queue limit pair as RouterOS reads it back: `5M/10M` → `5000000/10000000`; a single value
 * applies to both directions. Undefined when it is not a pair of rates.
 */
export function normaliseRatePair(text: string): string | undefined {
  const parts = text.split('/');
  if (parts.length > 2) return undefined;
  const rates = parts.map(parseRate);
  if (rates.some((r) => r === undefined)) return undefined;
  return `${rates[0]}/${rates[1] ?? rates[0]}`;
}

/**
 * A `rate-limit` compared by meaning: every rate-shaped part becomes bits per second, so `5M/10M`
 * and `5000000/10000000` compare equal. Other parts (burst times, priority) stay as written.
 */
export function canonicalRateLimit(text: string): string {
  return text
    .trim()
    .split(/\s+/)
    .map((group) =>
      group
        .split('/')
        .map((part) => {
          const rate = parseRate(part);
          return rate === undefined ? part : String(rate);
        })
        .join('/'),
    )
    .join(' ');
}

const DURATION_UNITS: Record<string, number> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1, ms: 0.001 };
const DURATION_PART = /([0-9]+(?:\.[0-9]+)?)(ms|w|d|h|m|s)/g;
const DURATION_WORDS = /^(?:[0-9]+(?:\.[0-9]+)?(?:ms|w|d|h|m|s))+$/;
const CLOCK = /^(?:([0-9]+)w)?(?:([0-9]+)d)?([0-9]{1,2}):([0-9]{2}):([0-9]{2}(?:\.[0-9]+)?)$/;

/** Seconds of a RouterOS duration (`4w2d`, `30d`, `1h30m`, `00:30:00`, `1d02:00:00`, `1w2d03:04:05`, `90`), or undefined. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (/^[0-9]+$/.test(t)) return Number(t);
  if (DURATION_WORDS.test(t)) {
    let total = 0;
    for (const m of t.matchAll(DURATION_PART)) total += Number(m[1]) * (DURATION_UNITS[m[2] ?? 's'] ?? 1);
    return total;
  }
  const c = CLOCK.exec(t);
  if (c) return Number(c[1] ?? 0) * 604800 + Number(c[2] ?? 0) * 86400 + Number(c[3]) * 3600 + Number(c[4]) * 60 + Number(c[5]);
  return undefined;
}

/** A duration as RouterOS 7 prints it: `4w2d`, `1h30m`, `0s`, `500ms`. */
export function formatDuration(seconds: number): string {
  let ms = Math.round(seconds * 1000);
  if (ms === 0) return '0s';
  let out = '';
  for (const [unit, size] of [
    ['w', 604800000],
    ['d', 86400000],
    ['h', 3600000],
    ['m', 60000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    const n = Math.floor(ms / size);
    if (n > 0) {
      out += `${n}${unit}`;
      ms -= n * size;
    }
  }
  return out;
}

/** RouterOS booleans: `yes`/`true` and `no`/`false`. */
export function parseBool(text: string): boolean | undefined {
  switch (text.trim().toLowerCase()) {
    case 'yes':
    case 'true':
      return true;
    case 'no':
    case 'false':
      return false;
    default:
      return undefined;
  }
}

const IPV4 = /^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$/;

/** The 32-bit value of a dotted quad, or undefined. */
export function parseIpv4(text: string): number | undefined {
  const m = IPV4.exec(text.trim());
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return octets.reduce((acc, o) => acc * 256 + o, 0);
}

/** A 32-bit value as a dotted quad. */
export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/**
 * An address or prefix as RouterOS reads it back, with host bits cleared: `10.0.0.5` → `10.0.0.5/32`
 * (or `10.0.0.5` when `hostWithoutMask`, as address lists show it).
 */
export function normalisePrefix(text: string, hostWithoutMask = false): string | undefined {
  const [addr, len, extra] = text.trim().split('/');
  if (addr === undefined || extra !== undefined) return undefined;
  const ip = parseIpv4(addr);
  const bits = len === undefined ? 32 : /^[0-9]{1,2}$/.test(len) ? Number(len) : NaN;
  if (ip === undefined || !(bits >= 0 && bits <= 32)) return undefined;
  const size = 2 ** (32 - bits);
  const network = Math.floor(ip / size) * size;
  if (bits === 32 && hostWithoutMask) return formatIpv4(network);
  return `${formatIpv4(network)}/${bits}`;
}

/** How the desired-state logic compares a property it manages. */
export type ValueKind = 'text' | 'bool' | 'rate-limit' | 'rate-pair' | 'prefix' | 'address' | 'duration' | 'integer';

/**
 * A value reduced to what it means, so that two spellings RouterOS treats as one compare equal.
 * Unparseable text is compared as written.
 */
export function canonicalValue(kind: ValueKind, text: string | undefined): string {
  const t = text ?? '';
  switch (kind) {
    case 'bool':
      return String(parseBool(t) ?? false);
    case 'rate-limit':
      return canonicalRateLimit(t);
    case 'rate-pair':
      return normaliseRatePair(t) ?? t;
    case 'prefix':
      return t
        .split(',')
        .map((p) => normalisePrefix(p) ?? p)
        .join(',');
    case 'address':
      return normalisePrefix(t, true) ?? t;
    case 'duration': {
      const s = parseDuration(t);
      return s === undefined ? t : String(s);
    }
    case 'integer':
      return t === '' ? '0' : String(Number(t));
    default:
      return t;
  }
}
