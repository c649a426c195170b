/**
 * How a written value becomes the form RouterOS reads it back in (`5M/10M` → `5000000/10000000`,
 * `10.0.0.5` → `10.0.0.5/32`, `1d` → `1d`, `yes` → `true`), one case per field type, refused with
 * RouterOS's own words when it does not parse.
 */
import { formatDuration, formatIpv4, normalisePrefix, normaliseRatePair, parseBool, parseDuration, parseIpv4, parseRate } from '@mtandao/agent/routeros-values';
import type { FieldSpec, MenuSpec } from './menus.ts';
import { RosError } from './ros-error.ts';

/**
 * Parses one input value of `spec`'s property `name` into its read-back form. `hasName` answers
 * whether another menu holds an entry of that name (for references such as a secret's profile);
 * `internal` lets the router itself set read-only properties.
 */
export function parseValue(spec: MenuSpec, name: string, value: string, hasName: (menu: string, name: string) => boolean, internal = false): string {
  const field: FieldSpec | undefined = spec.fields[name];
  if (!field || (field.readOnly && !internal)) throw new RosError(`unknown parameter ${name}`, 1);
  const invalid = (): never => {
    throw new RosError(`invalid value for argument ${name}`, 1);
  };
  const t = field.type;
  switch (t.kind) {
    case 'string':
      return value;
    case 'bool': {
      const b = parseBool(value);
      return b === undefined ? invalid() : String(b);
    }
    case 'int': {
      if (!/^[0-9]+$/.test(value)) return invalid();
      const n = Number(value);
      if (n < t.min || n > t.max) throw new RosError(`value of ${name} out of range (${t.min}..${t.max})`, 1);
      return String(n);
    }
    case 'bytes': {
      const m = /^([0-9]+)([kKMG]?)$/.exec(value);
      if (!m) return invalid();
      return String(Number(m[1]) * ({ k: 1024, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2] ?? ''] ?? 1));
    }
    case 'ip': {
      const ip = parseIpv4(value);
      return ip === undefined ? invalid() : formatIpv4(ip);
    }
    case 'ip-or-pool': {
      const ip = parseIpv4(value);
      if (ip !== undefined) return formatIpv4(ip);
      return /^[^\s/]+$/.test(value) ? value : invalid();
    }
    case 'prefix-list': {
      const parts = value.split(',').map((p) => normalisePrefix(p));
      return parts.some((p) => p === undefined) ? invalid() : parts.join(',');
    }
    case 'address': {
      const p = normalisePrefix(value, true);
      if (p !== undefined) return p;
      return /^[A-Za-z0-9.-]+$/.test(value) || /^[0-9.]+-[0-9.]+$/.test(value) ? value : invalid();
    }
    case 'rate-pair':
      return normaliseRatePair(value) ?? invalid();
    case 'rate-limit': {
      const ok = value
        .trim()
        .split(/\s+/)
        .every((g) => g.split('/').every((p) => parseRate(p) !== undefined || parseDuration(p) !== undefined));
      return ok && value.trim() !== '' ? value.trim() : invalid();
    }
    case 'duration': {
      if (t.none && value === 'none') return value;
      const s = parseDuration(value);
      return s === undefined ? invalid() : formatDuration(s);
    }
    case 'enum':
      if (!t.values.includes(value)) throw new RosError(`input does not match any value of ${name}`, 1);
      return value;
    case 'ref': {
      if (!hasName(t.menu, value)) throw new RosError(`input does not match any value of ${name}`, 1);
      return value;
    }
  }
}
