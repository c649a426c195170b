/**
 * Writing RouterOS console commands safely, and reading what the console prints back.
 *
 * Every value is sent as a double-quoted string of Windows-1252 bytes in which `"`, `\`, `$` and
 * `?` are escaped and every other byte outside printable ASCII (control characters, newlines,
 * bytes above 0x7E) is written `\XX` in upper-case hex — so the command line is pure printable
 * ASCII, a value can neither end its string nor reach a variable or `[ … ]`, and what lands on the
 * router is byte for byte the value given. Menu paths, property names and ids are checked against
 * strict patterns, since they are written unquoted.
 */
import { encodeWin1252, EncodingError } from '../encoding.ts';
import { RouterError, type RouterRow } from '../types.ts';
import { checkMenu, checkName, invalid } from '../validate.ts';

/** A value as a RouterOS string literal: `"a\"b\$c\0A"`. */
export function quoteCli(value: string): string {
  let bytes: Buffer;
  try {
    bytes = encodeWin1252(value);
  } catch (e) {
    throw invalid(e instanceof EncodingError ? `refused to send a value: ${e.message}` : String(e), e);
  }
  let out = '"';
  for (const b of bytes) {
    if (b === 0x22 || b === 0x5c || b === 0x24 || b === 0x3f) out += `\\${String.fromCharCode(b)}`;
    else if (b < 0x20 || b > 0x7e) out += `\\${b.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += String.fromCharCode(b);
  }
  return `${out}"`;
}

/** `/ppp/secret` → `/ppp secret` (the form RouterOS 6 and 7 both read). */
export function cliPath(menu: string): string {
  return `/${checkMenu(menu).slice(1).split('/').join(' ')}`;
}

/** `name="v" comment="w"`. */
export function cliArgs(props: Record<string, string>): string {
  return Object.entries(props)
    .map(([k, v]) => `${checkName(k)}=${quoteCli(v)}`)
    .join(' ');
}

/** ` where name="x" and comment="y"`, or nothing. */
export function cliWhere(where: Record<string, string> | undefined): string {
  const parts = Object.entries(where ?? {}).map(([k, v]) => `${checkName(k)}=${quoteCli(v)}`);
  return parts.length > 0 ? ` where ${parts.join(' and ')}` : '';
}

/** Console errors that mean the command itself was malformed (this driver's bug, not the router's refusal). */
const MALFORMED = /^(syntax error|expected end of command|bad command name|expected command name|expected closing)/;

/**
 * What the console printed instead of an answer, as a RouterError: `failure: …` and the other
 * refusals become `trap` with the router's words; a parse error is `protocol`.
 */
export function consoleError(output: string, command: string): RouterError {
  const message =
    output
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? 'no output';
  if (MALFORMED.test(message))
    return new RouterError('protocol', `router could not parse ${command.split(' ', 2).join(' ')}: ${message}`, { routerMessage: message });
  return new RouterError('trap', message, { routerMessage: message });
}

/** Rows from `:serialize to=json` of `print as-value`: every value back to the string the API gives. */
export function rowsFromJson(text: string): RouterRow[] | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (data === null || data === '') return [];
  const list = Array.isArray(data) ? data : [data];
  if (!list.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))) return undefined;
  return list.map((r: Record<string, unknown>) => {
    const row: RouterRow = {};
    for (const [k, v] of Object.entries(r)) row[k] = Array.isArray(v) ? v.join(',') : v === null ? '' : String(v);
    return row;
  });
}

const RECORD = /^\s*(\*[0-9A-Fa-f]+)\s((?:\s*[A-Z])*)\s*(.*)$/;
const FIELD_START = /(?:^| )([a-z0-9.-]+)=/g;

/**
 * Rows from `print terse show-ids` (RouterOS before 7.13, which has no `:serialize`). RouterOS
 * writes terse values raw, so a value runs until the next ` key=`: a value that itself contains
 * ` word=` or a newline cannot be read back exactly this way. Returns undefined on a line that is
 * not a record (an error message).
 */
export function rowsFromTerse(text: string): RouterRow[] | undefined {
  const rows: RouterRow[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const m = RECORD.exec(line);
    if (!m) return undefined;
    const [, id = '', flags = '', rest = ''] = m;
    const row: RouterRow = { '.id': id };
    const starts = [...rest.matchAll(FIELD_START)];
    starts.forEach((s, i) => {
      const from = (s.index ?? 0) + s[0].length;
      const to = i + 1 < starts.length ? (starts[i + 1]?.index ?? rest.length) : rest.length;
      row[s[1] ?? ''] = rest.slice(from, to);
    });
    row.disabled = String(flags.includes('X'));
    if (flags.includes('D')) row.dynamic = 'true';
    rows.push(row);
  }
  return rows;
}
