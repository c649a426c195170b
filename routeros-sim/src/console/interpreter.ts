/**
 * Runs parsed console commands against the store. Each command takes its turn on the router's CPU
 * (writes cost `opCostMs`), so the CLI and the API load one router the same way.
 */
import type { SimContext } from '../context.ts';
import { MENUS, type MenuSpec } from '../menus.ts';
import { sameValue } from '../query.ts';
import { RosError, type Row } from '../store.ts';
import { formatDetail, formatSettings, formatTerse, putRow, typedRow } from './format.ts';
import { ConsoleError, tokenize } from './lexer.ts';
import { parseScript, type ArgNode, type CommandNode, type ValueNode, type WhereNode } from './parser.ts';

type Typed = Record<string, string | number | boolean>;

/** A value in the console: text, a number (`print count-only`), a list of ids (`find`), rows (`print as-value`) or one row (`get`). */
export type ConsoleValue =
  { t: 'str'; v: string } | { t: 'num'; v: number } | { t: 'ids'; v: string[] } | { t: 'rows'; v: Typed[] } | { t: 'row'; v: Typed } | { t: 'nil' };

/** What a script printed, and where it left the console. */
export interface ConsoleResult {
  output: string[];
  cwd: string;
  quit: boolean;
}

const NIL: ConsoleValue = { t: 'nil' };
const pick = (row: Row, keys: readonly string[]): Row => Object.fromEntries(Object.entries(row).filter(([k]) => keys.includes(k)));
const WRITES = new Set(['add', 'set', 'remove', 'enable', 'disable', 'unset']);

/** How `:put` shows a value. */
export function showValue(value: ConsoleValue): string {
  switch (value.t) {
    case 'str':
      return value.v;
    case 'num':
      return String(value.v);
    case 'ids':
      return value.v.join(';');
    case 'rows':
      return value.v.map(putRow).join(';');
    case 'row':
      return putRow(value.v);
    default:
      return '';
  }
}

function toJson(value: ConsoleValue): unknown {
  switch (value.t) {
    case 'str':
      return value.v;
    case 'nil':
      return null;
    default:
      return value.v;
  }
}

const writes = (cmd: CommandNode): boolean =>
  (cmd.kind === 'menu' && WRITES.has(cmd.verb)) ||
  cmd.args.some((a) => a.value.kind === 'subst' && writes(a.value.command)) ||
  (cmd.where !== undefined && whereWrites(cmd.where));
const whereWrites = (w: WhereNode): boolean =>
  w.kind === 'cmp'
    ? w.value.kind === 'subst' && writes(w.value.command)
    : w.kind === 'not'
      ? whereWrites(w.expr)
      : w.kind === 'has'
        ? false
        : whereWrites(w.left) || whereWrites(w.right);

/** The console of one SSH session. */
export class ConsoleInterpreter {
  constructor(private readonly ctx: SimContext) {}

  /** Parses the whole script, then runs it line by line until the first error. */
  async run(script: string, cwd: string): Promise<ConsoleResult> {
    const output: string[] = [];
    let commands: CommandNode[];
    try {
      commands = parseScript(tokenize(script), cwd, { serialize: this.ctx.hasSerialize }).commands;
    } catch (e) {
      if (e instanceof ConsoleError) return { output: [e.message], cwd, quit: false };
      throw e;
    }
    for (const cmd of commands) {
      this.ctx.counters.cliCommands++;
      if (cmd.kind === 'cd') {
        cwd = cmd.path;
        continue;
      }
      if (cmd.kind === 'quit') return { output, cwd, quit: true };
      try {
        await new Promise<void>((resolve, reject) =>
          this.ctx.cpu.submit(writes(cmd), () => {
            try {
              this.top(cmd, output);
              resolve();
            } catch (e) {
              reject(e);
            }
          }),
        );
      } catch (e) {
        if (e instanceof RosError || e instanceof ConsoleError) {
          output.push(e.message);
          break;
        }
        throw e;
      }
    }
    return { output, cwd, quit: false };
  }

  /** A command typed at the prompt: what it prints goes to the terminal. */
  private top(cmd: CommandNode, output: string[]): void {
    if (cmd.kind === 'ice' && cmd.verb === 'put') {
      const arg = cmd.args[0];
      output.push(arg ? showValue(this.value(arg.value)) : '');
      return;
    }
    if (cmd.kind === 'menu' && cmd.verb === 'print') {
      output.push(...this.printLines(cmd));
      return;
    }
    this.exec(cmd);
  }

  private exec(cmd: CommandNode): ConsoleValue {
    if (cmd.kind === 'ice') return cmd.verb === 'serialize' ? this.serialize(cmd) : NIL;
    const store = this.ctx.store;
    const path = cmd.path;
    switch (cmd.verb) {
      case 'print': {
        // `[… print count-only]` is a number on RouterOS 6 and 7 alike, whatever else the print asked for
        if (cmd.args.some((a) => a.name === 'count-only')) return { t: 'num', v: this.rows(cmd).length };
        const proplist = this.proplist(cmd);
        return { t: 'rows', v: this.rows(cmd).map((r) => typedRow(this.spec(path), proplist ? pick(r, ['.id', ...proplist]) : r)) };
      }
      case 'find':
        return { t: 'ids', v: this.rows(cmd).map((r) => r['.id'] ?? '') };
      case 'get':
        return this.get(cmd);
      case 'add':
        return { t: 'str', v: store.add(path, this.props(cmd.args)) };
      case 'set':
        store.set(path, this.items(cmd), this.props(cmd.args.filter((a) => a.name !== 'numbers')));
        return NIL;
      case 'unset':
        store.unset(path, this.items(cmd), this.names(cmd));
        return NIL;
      case 'remove':
        store.remove(path, this.items(cmd));
        return NIL;
      case 'enable':
      case 'disable':
        store.setDisabled(path, this.items(cmd), cmd.verb === 'disable');
        return NIL;
      default:
        throw new ConsoleError(`bad command name ${cmd.verb}`);
    }
  }

  private printLines(cmd: CommandNode): string[] {
    const flag = (f: string) => cmd.args.some((a) => a.name === f);
    const spec = this.spec(cmd.path);
    const rows = this.rows(cmd);
    if (flag('count-only')) return [String(rows.length)];
    if (flag('as-value')) return [showValue({ t: 'rows', v: rows.map((r) => typedRow(spec, r)) })];
    if (spec.singleton) return formatSettings(rows[0] ?? {});
    const proplist = this.proplist(cmd);
    return flag('terse') ? formatTerse(spec, rows, flag('show-ids'), proplist) : formatDetail(spec, rows, flag('show-ids'), proplist);
  }

  private proplist(cmd: CommandNode): string[] | undefined {
    const arg = cmd.args.find((a) => a.name === 'proplist');
    return arg ? showValue(this.value(arg.value)).split(',') : undefined;
  }

  private rows(cmd: CommandNode): Row[] {
    const rows = this.ctx.store.list(cmd.path);
    const where = cmd.where;
    return where ? rows.filter((r) => this.matches(where, r)) : rows;
  }

  private matches(w: WhereNode, row: Row): boolean {
    switch (w.kind) {
      case 'and':
        return this.matches(w.left, row) && this.matches(w.right, row);
      case 'or':
        return this.matches(w.left, row) || this.matches(w.right, row);
      case 'not':
        return !this.matches(w.expr, row);
      case 'has': {
        const v = row[w.prop];
        return v !== undefined && v !== '' && v !== 'false';
      }
      case 'cmp': {
        const want = showValue(this.value(w.value));
        const have = row[w.prop];
        switch (w.op) {
          case '=':
            return sameValue(have, want);
          case '!=':
            return !sameValue(have, want);
          case '~':
            try {
              return have !== undefined && new RegExp(want).test(have);
            } catch {
              throw new ConsoleError('invalid regular expression');
            }
          default: {
            const a = Number(have);
            const b = Number(want);
            if (have === undefined || Number.isNaN(a) || Number.isNaN(b)) return false;
            return w.op === '<' ? a < b : w.op === '>' ? a > b : w.op === '<=' ? a <= b : a >= b;
          }
        }
      }
    }
  }

  private get(cmd: CommandNode): ConsoleValue {
    const spec = this.spec(cmd.path);
    const positional = cmd.args.filter((a) => a.name === undefined);
    const named = (n: string) => cmd.args.find((a) => a.name === n);
    let row: Row;
    let propArg: ArgNode | undefined;
    if (spec.singleton) {
      row = this.ctx.store.list(cmd.path)[0] ?? {};
      propArg = named('value-name') ?? positional[0];
    } else {
      const [id] = this.items(cmd, named('number') ?? positional[0]);
      row = this.ctx.store.get(cmd.path, id ?? '') ?? {};
      propArg = named('value-name') ?? positional[1];
    }
    const typed = typedRow(spec, row);
    if (!propArg) return { t: 'row', v: typed };
    const prop = showValue(this.value(propArg.value));
    const v = typed[prop];
    if (v === undefined) throw new RosError('no such property', 1);
    return { t: 'str', v: String(v) };
  }

  private serialize(cmd: CommandNode): ConsoleValue {
    const to = cmd.args.find((a) => a.name === 'to');
    if (!to || showValue(this.value(to.value)) !== 'json') throw new RosError('invalid value for argument to', 1);
    const arg = cmd.args.find((a) => a.name === 'value') ?? cmd.args.find((a) => a.name === undefined);
    return { t: 'str', v: JSON.stringify(arg ? toJson(this.value(arg.value)) : null) };
  }

  private value(node: ValueNode): ConsoleValue {
    return node.kind === 'literal' ? { t: 'str', v: node.value } : this.exec(node.command);
  }

  private props(args: readonly ArgNode[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const a of args) if (a.name !== undefined) out[a.name] = showValue(this.value(a.value));
    return out;
  }

  /** The items a command names: `*1A`, `*1,*2`, print numbers `0,1`, names, or a `[find …]`. */
  private items(
    cmd: CommandNode,
    arg: ArgNode | undefined = cmd.args.find((a) => a.name === 'numbers') ?? cmd.args.find((a) => a.name === undefined),
  ): string[] {
    if (!arg) throw new RosError('no such item', 1);
    const value = this.value(arg.value);
    if (value.t === 'ids') return value.v;
    const list = () => this.ctx.store.list(cmd.path);
    return showValue(value)
      .split(',')
      .filter(Boolean)
      .map((ref) => {
        if (!/^[0-9]+$/.test(ref)) return ref;
        const row = list()[Number(ref)];
        if (!row?.['.id']) throw new RosError('no such item', 1);
        return row['.id'];
      });
  }

  private names(cmd: CommandNode): string[] {
    const named = cmd.args.find((a) => a.name === 'value-name');
    const positional = cmd.args.filter((a) => a.name === undefined)[1];
    const arg = named ?? positional;
    return arg ? showValue(this.value(arg.value)).split(',') : [];
  }

  private spec(path: string): MenuSpec {
    const spec = MENUS.get(path);
    if (!spec) throw new ConsoleError('no such command prefix');
    return spec;
  }
}
