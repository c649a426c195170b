/**
 * How the console shows values. `print terse` writes values raw, as RouterOS 7 does (a value may
 * hold spaces or quotes, so a parser must split at the next `key=`); `print detail` quotes text and
 * escapes quotes, backslashes, control characters and bytes above 0x7F as `\XX`; `as-value` gives
 * typed values, which `:serialize to=json` writes as JSON.
 */
import { findUnencodable, encodeWin1252 } from '@mtandao/agent/routeros-encoding';
import type { MenuSpec } from '../menus.ts';
import type { Row } from '../store.ts';

/** A value as the console shows it: booleans as `yes`/`no`. */
export function consoleValue(spec: MenuSpec, name: string, value: string): string {
  return spec.fields[name]?.type.kind === 'bool' ? (value === 'true' ? 'yes' : 'no') : value;
}

/** The byte a character stands for on the router (see drivers/encoding.ts). */
const byteOf = (ch: string): number => (findUnencodable(ch) < 0 ? (encodeWin1252(ch)[0] ?? 0x3f) : 0x3f);

/** A string in double quotes with RouterOS's escapes. */
export function quoteConsole(value: string): string {
  let out = '"';
  for (const ch of value) {
    const code = ch.charCodeAt(0);
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (code < 0x20 || code >= 0x7f) out += `\\${byteOf(ch).toString(16).toUpperCase().padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

const HIDDEN = new Set(['.id', 'disabled', 'dynamic', 'comment']);

function flagsOf(row: Row): string {
  return `${row.disabled === 'true' ? 'X' : ' '}${row.dynamic === 'true' ? 'D' : ' '}`;
}

function leadOf(row: Row, index: number, showIds: boolean, width: number): string {
  return (showIds ? (row['.id'] ?? '') : String(index)).padStart(width);
}

function fieldsOf(spec: MenuSpec, row: Row, proplist: readonly string[] | undefined): [string, string][] {
  return Object.keys(row)
    .filter((k) => !HIDDEN.has(k) && (!proplist || proplist.includes(k)))
    .map((k) => [k, consoleValue(spec, k, row[k] ?? '')]);
}

/** `print terse`: one line per entry, `<id|index> <flags> comment=… key=value …`, values raw. */
export function formatTerse(spec: MenuSpec, rows: readonly Row[], showIds: boolean, proplist?: readonly string[]): string[] {
  const width = showIds ? 0 : String(Math.max(0, rows.length - 1)).length + 1;
  return rows.map((row, i) => {
    const comment = row.comment !== undefined && (!proplist || proplist.includes('comment')) ? [`comment=${row.comment}`] : [];
    const fields = fieldsOf(spec, row, proplist).map(([k, v]) => `${k}=${v}`);
    return `${leadOf(row, i, showIds, width)} ${flagsOf(row)} ${[...comment, ...fields].join(' ')}`;
  });
}

/** `print detail` (and plain `print`): a flags legend, then each entry with `;;; comment` and quoted text. */
export function formatDetail(spec: MenuSpec, rows: readonly Row[], showIds: boolean, proplist?: readonly string[]): string[] {
  const width = showIds ? 0 : String(Math.max(0, rows.length - 1)).length + 1;
  const out = ['Flags: X - disabled; D - dynamic'];
  rows.forEach((row, i) => {
    const lead = `${leadOf(row, i, showIds, width)} ${flagsOf(row)} `;
    const pad = ' '.repeat(lead.length);
    // text is always quoted; other values (a profile name, say) only when they hold a space or a quote
    const fields = fieldsOf(spec, row, proplist).map(([k, v]) => `${k}=${spec.fields[k]?.type.kind === 'string' || /[\s"\\;]/.test(v) ? quoteConsole(v) : v}`);
    if (row.comment !== undefined) out.push(`${lead};;; ${quoteConsole(row.comment).slice(1, -1)}`, `${pad}${fields.join(' ')}`);
    else out.push(`${lead}${fields.join(' ')}`);
    out.push('');
  });
  return out;
}

/** A settings menu (`/system resource print`): `key: value` lines, keys right-aligned. */
export function formatSettings(row: Row): string[] {
  const width = Math.max(...Object.keys(row).map((k) => k.length));
  return Object.entries(row).map(([k, v]) => `${k.padStart(width + 2)}: ${v}`);
}

/** A row as `as-value` gives it: typed values, ready for `:serialize to=json`. */
export function typedRow(spec: MenuSpec, row: Row): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(row)) {
    const kind = spec.fields[k]?.type.kind;
    if (kind === 'bool') out[k] = v === 'true';
    else if ((kind === 'int' || kind === 'bytes') && /^[0-9]+$/.test(v)) out[k] = Number(v);
    else out[k] = v;
  }
  return out;
}

/** How `:put` shows a row: `key=value;key=value`. */
export function putRow(row: Record<string, string | number | boolean>): string {
  return Object.entries(row)
    .map(([k, v]) => `${k}=${v}`)
    .join(';');
}
