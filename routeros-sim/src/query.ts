/**
 * API print queries, evaluated as RouterOS documents them: a stack of booleans that starts as an
 * endless run of `true`; each `?` word pushes a result or (`?#`) combines what is on the stack; an
 * item matches unless a `false` is left anywhere on the stack.
 */
import { parseBool } from '@mtandao/agent/routeros-values';
import { RosError, type Row } from './store.ts';

type Step = (row: Row, stack: boolean[]) => void;

const NUMBER = /^-?[0-9]+(?:\.[0-9]+)?$/;

function compare(a: string, b: string): number {
  if (NUMBER.test(a) && NUMBER.test(b)) return Number(a) - Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Equality as RouterOS applies it: `?disabled=no` matches a `false` read back. */
export function sameValue(actual: string | undefined, wanted: string): boolean {
  if (actual === undefined) return false;
  if (actual === wanted) return true;
  const a = parseBool(actual);
  return a !== undefined && a === parseBool(wanted);
}

/** Top of the stack counts from 0; below what was pushed lies the endless run of `true`. */
const at = (stack: boolean[], index: number): boolean => stack[stack.length - 1 - index] ?? true;
const pop = (stack: boolean[]): boolean => stack.pop() ?? true;

function operations(ops: string): Step {
  return (_row, stack) => {
    let i = 0;
    let last: 'index' | 'other' = 'other';
    while (i < ops.length) {
      const digits = /^[0-9]+/.exec(ops.slice(i));
      if (digits) {
        const value = at(stack, Number(digits[0]));
        i += digits[0].length;
        if (i >= ops.length) stack.splice(0, stack.length, value);
        else stack.push(value);
        last = 'index';
        continue;
      }
      const c = ops[i++];
      if (c === '!') stack.push(!pop(stack));
      else if (c === '&' || c === '|') {
        // Both operands leave the stack, whatever the first one is.
        const a = pop(stack);
        const b = pop(stack);
        stack.push(c === '&' ? a && b : a || b);
      } else if (c === '.') {
        if (last !== 'index') stack.push(at(stack, 0));
      } else throw new RosError(`unknown query operation ${c}`, 5);
      last = 'other';
    }
  };
}

function word(q: string): Step {
  const body = q.slice(1);
  if (body.startsWith('#')) return operations(body.slice(1));
  const op = body[0];
  if (op === '-') return (row, s) => void s.push(!(body.slice(1) in row));
  if (op === '<' || op === '>') {
    const eq = body.indexOf('=');
    if (eq < 0) throw new RosError('invalid query', 5);
    const name = body.slice(1, eq);
    const value = body.slice(eq + 1);
    return (row, s) => {
      const v = row[name];
      s.push(v !== undefined && (op === '<' ? compare(v, value) < 0 : compare(v, value) > 0));
    };
  }
  const rest = op === '=' ? body.slice(1) : body;
  const eq = rest.indexOf('=');
  if (eq < 0) return (row, s) => void s.push(rest in row);
  const name = rest.slice(0, eq);
  const value = rest.slice(eq + 1);
  return (row, s) => void s.push(sameValue(row[name], value));
}

/** Compiles the `?` words of a print; the result tells whether a row is printed. */
export function compileQuery(words: readonly string[]): (row: Row) => boolean {
  if (words.length === 0) return () => true;
  const steps = words.map(word);
  return (row) => {
    const stack: boolean[] = [];
    for (const step of steps) step(row, stack);
    return !stack.includes(false);
  };
}
