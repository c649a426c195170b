/**
 * Tokens of the RouterOS console language, the subset the emulator speaks. Quoted strings follow
 * RouterOS's escapes: `\"` `\\` `\$` `\?` `\_` (space) `\a` `\b` `\f` `\n` `\r` `\t` `\v`, and `\XX`
 * for a byte in upper-case hex. Inside a string `$name` is a variable (none are ever defined, so it
 * reads as empty, as an undefined variable does); `$[…]` and `$(…)` would run code on a router, so
 * the emulator refuses them as a syntax error rather than run anything a value contains.
 */

import { decodeWin1252 } from '@mtandao/agent/routeros-encoding';

/** What a token is. */
export type TokenKind = 'word' | 'string' | 'var' | '[' | ']' | '(' | ')' | '{' | '}' | 'end';

/** One token and where it starts. */
export interface Token {
  kind: TokenKind;
  /** The word, the unescaped string, or the variable's (empty) value. */
  value: string;
  line: number;
  column: number;
  /** No white space between this token and the previous one (`name="x"` is a word glued to a string). */
  glued: boolean;
}

/** A console error, worded as RouterOS prints it. */
export class ConsoleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConsoleError';
  }
}

/** Where something went wrong, in RouterOS's words. */
export const at = (p: { line: number; column: number }): string => `(line ${p.line} column ${p.column})`;
/** `syntax error (line L column C)`. */
export const syntaxError = (p: { line: number; column: number }): ConsoleError => new ConsoleError(`syntax error ${at(p)}`);

const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  $: '$',
  '?': '?',
  _: ' ',
  a: '\x07',
  b: '\x08',
  f: '\x0c',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\x0b',
};
const HEX = /^[0-9A-F]{2}$/;
const WORD_STOP = new Set([' ', '\t', '\r', '\n', ';', '"', '[', ']', '(', ')', '{', '}', '$', '\\']);
const IDENT = /[A-Za-z0-9_]/;

/** Splits a script into tokens; throws a {@link ConsoleError} on a syntax error. */
export function tokenize(script: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let glued = false;
  const pos = (index: number) => ({ line, column: index - lineStart + 1 });
  const push = (kind: TokenKind, value: string, start: { line: number; column: number }) => {
    tokens.push({ kind, value, ...start, glued });
    glued = true;
  };
  const newline = (index: number) => {
    line++;
    lineStart = index + 1;
  };
  const atCommandStart = () => tokens.length === 0 || tokens[tokens.length - 1]?.kind === 'end' || tokens[tokens.length - 1]?.kind === '[';

  while (i < script.length) {
    const c = script[i] as string;
    if (c === ' ' || c === '\t') {
      i++;
      glued = false;
      continue;
    }
    if (c === '\\' && (script[i + 1] === '\n' || (script[i + 1] === '\r' && script[i + 2] === '\n'))) {
      // a backslash at the end of a line joins it to the next
      i += script[i + 1] === '\n' ? 2 : 3;
      newline(i - 1);
      glued = false;
      continue;
    }
    if (c === '\n' || c === '\r' || c === ';') {
      push('end', c, pos(i));
      if (c === '\r' && script[i + 1] === '\n') i++;
      if (c !== ';') newline(i);
      i++;
      glued = false;
      continue;
    }
    if (c === '#' && atCommandStart()) {
      while (i < script.length && script[i] !== '\n') i++;
      continue;
    }
    if ('[](){}'.includes(c)) {
      push(c as TokenKind, c, pos(i));
      i++;
      continue;
    }
    const start = pos(i);
    if (c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= script.length) throw syntaxError(start);
        const d = script[i] as string;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\') {
          const next = script[i + 1] ?? '';
          const hex = script.slice(i + 1, i + 3);
          if (HEX.test(hex)) {
            value += decodeWin1252(Buffer.from([parseInt(hex, 16)]));
            i += 3;
          } else if (next in SIMPLE_ESCAPES) {
            value += SIMPLE_ESCAPES[next];
            i += 2;
          } else if (next === '\n' || (next === '\r' && script[i + 2] === '\n')) {
            i += next === '\n' ? 2 : 3;
            newline(i - 1);
          } else throw syntaxError(pos(i));
          continue;
        }
        if (d === '$') {
          const n = script[i + 1] ?? '';
          if (n === '[' || n === '(') throw syntaxError(pos(i));
          if (IDENT.test(n)) {
            i++;
            while (i < script.length && IDENT.test(script[i] as string)) i++;
            continue; // an undefined variable reads as nothing
          }
        }
        if (d === '\n') newline(i);
        value += d;
        i++;
      }
      push('string', value, start);
      continue;
    }
    if (c === '$') {
      i++;
      if (!IDENT.test(script[i] ?? '')) throw syntaxError(start);
      while (i < script.length && IDENT.test(script[i] as string)) i++;
      push('var', '', start);
      continue;
    }
    let word = '';
    while (i < script.length && !WORD_STOP.has(script[i] as string)) word += script[i++];
    if (word === '') throw syntaxError(start);
    push('word', word, start);
  }
  return tokens;
}
