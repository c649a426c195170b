/**
 * Parses console command lines into commands: a menu path (`/ppp secret`, `/ppp/secret`, relative to
 * the current menu), a verb and its arguments, `[ … ]` command substitution, `where` expressions and
 * the `:put` / `:serialize` commands. A whole script is parsed before any of it runs, as RouterOS
 * does, so a syntax error on line 3 leaves lines 1 and 2 unapplied.
 */
import { isMenuPrefix, MENUS } from '../menus.ts';
import { at, ConsoleError, syntaxError, type Token } from './lexer.ts';

/** A value: literal text or the result of a nested command. */
export type ValueNode = { kind: 'literal'; value: string } | { kind: 'subst'; command: CommandNode };

/** A `name=value` argument, or a positional one when `name` is absent. */
export interface ArgNode {
  name?: string;
  value: ValueNode;
  token: Token;
}

/** A `where` expression. */
export type WhereNode =
  | { kind: 'and' | 'or'; left: WhereNode; right: WhereNode }
  | { kind: 'not'; expr: WhereNode }
  | { kind: 'has'; prop: string }
  | { kind: 'cmp'; prop: string; op: string; value: ValueNode };

/** One command. */
export interface CommandNode {
  /** `menu`: a verb on a menu; `ice`: `:put`…; `cd`: a bare path that changes the current menu; `quit`. */
  kind: 'menu' | 'ice' | 'cd' | 'quit';
  /** API form of the menu (`/ppp/secret`), `''` for the root. */
  path: string;
  verb: string;
  args: ArgNode[];
  where?: WhereNode;
  token: Token;
}

const LIST_VERBS = ['print', 'find', 'get'];
const PRINT_FLAGS = new Set(['terse', 'detail', 'as-value', 'count-only', 'show-ids', 'without-paging', 'brief', 'value-list']);
const ICE = new Set(['put', 'serialize']);
const expectedEnd = (t: Token) => new ConsoleError(`expected end of command ${at(t)}`);
const badName = (t: Token, name: string) => new ConsoleError(`bad command name ${name} ${at(t)}`);

/** Verbs of a menu; none for a path that only leads to menus (`/ip`). */
export function verbsOf(path: string): Set<string> {
  const spec = MENUS.get(path);
  if (!spec) return new Set(path === '' ? ['quit'] : []);
  return new Set([...LIST_VERBS, ...spec.verbs]);
}

/** What the emulated RouterOS version understands. */
export interface ParseOptions {
  /** `:serialize` exists from RouterOS 7.13. */
  serialize: boolean;
}

/** Parses a whole script, tracking the current menu from line to line. */
export function parseScript(tokens: readonly Token[], cwd: string, options: ParseOptions = { serialize: true }): { commands: CommandNode[]; cwd: string } {
  const commands: CommandNode[] = [];
  let line: Token[] = [];
  const flush = () => {
    if (line.length > 0) {
      const cmd = new Parser(line, cwd, options).command(true);
      if (cmd.kind === 'cd') cwd = cmd.path;
      commands.push(cmd);
    }
    line = [];
  };
  for (const t of tokens) {
    if (t.kind === 'end') flush();
    else line.push(t);
  }
  flush();
  return { commands, cwd };
}

class Parser {
  private i = 0;
  /** The menu nested commands run in: `set [find …]` finds in the menu of its `set`. */
  private scope: string;

  constructor(
    private readonly tokens: readonly Token[],
    cwd: string,
    private readonly options: ParseOptions,
  ) {
    this.scope = cwd;
  }

  /** Parses one command; at the top level it must use every token of its line. */
  command(top: boolean): CommandNode {
    const first = this.peek();
    if (!first) throw new ConsoleError('expected command name');
    const cmd = first.kind === 'word' && first.value.startsWith(':') ? this.ice(first) : this.menuCommand(first);
    const rest = this.peek();
    if (top && rest) throw rest.kind === ']' ? syntaxError(rest) : expectedEnd(rest);
    return cmd;
  }

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private atEnd(): boolean {
    const t = this.peek();
    return !t || t.kind === ']';
  }

  private ice(first: Token): CommandNode {
    this.i++;
    const name = first.value.slice(1);
    if (!ICE.has(name) || (name === 'serialize' && !this.options.serialize)) throw badName(first, name);
    const args = this.args(name === 'put' ? undefined : new Set(['to', 'value']), 1);
    return { kind: 'ice', path: this.scope, verb: name, args, token: first };
  }

  private menuCommand(first: Token): CommandNode {
    let path = this.scope;
    let verb: string | undefined;
    const step = (segment: string, t: Token, last: boolean): void => {
      const next = `${path}/${segment}`;
      if (segment === '..') path = path.slice(0, Math.max(0, path.lastIndexOf('/')));
      else if (isMenuPrefix(next)) path = next;
      else if (last && verbsOf(path).has(segment)) verb = segment;
      else throw badName(t, segment);
    };
    if (first.kind === 'word' && first.value.startsWith('/')) {
      path = '';
      const segments = first.value.split('/').filter(Boolean);
      segments.forEach((s, k) => step(s, first, k === segments.length - 1));
      this.i++;
    }
    while (verb === undefined && this.peek()?.kind === 'word') {
      const t = this.peek() as Token;
      step(t.value, t, true);
      this.i++;
    }
    if (verb === undefined) {
      const t = this.peek();
      if (t && t.kind !== ']') throw t.kind === 'word' ? badName(t, t.value) : syntaxError(t);
      return { kind: 'cd', path, verb: '', args: [], token: first };
    }
    if (verb === 'quit') return { kind: 'quit', path, verb, args: [], token: first };
    this.scope = path;
    const cmd: CommandNode = { kind: 'menu', path, verb, args: [], token: first };
    if (verb === 'print' || verb === 'find') {
      this.listArgs(cmd);
      return cmd;
    }
    const spec = MENUS.get(path);
    const names = new Set(
      Object.entries(spec?.fields ?? {})
        .filter(([, f]) => !f.readOnly)
        .map(([n]) => n),
    );
    if (verb === 'add') cmd.args = this.args(names, 0);
    else if (verb === 'set') cmd.args = this.args(new Set([...names, 'numbers']), spec?.singleton ? 0 : 1);
    else if (verb === 'unset') cmd.args = this.args(new Set(['numbers', 'value-name']), 2);
    else if (verb === 'get') cmd.args = this.args(new Set(['number', 'value-name']), 2);
    else cmd.args = this.args(new Set(['numbers']), 1);
    return cmd;
  }

  /** `print` and `find`: flags, `proplist=`, then a `where` expression to the end. */
  private listArgs(cmd: CommandNode): void {
    while (!this.atEnd()) {
      const t = this.peek() as Token;
      if (t.kind === 'word' && t.value === 'where') {
        this.i++;
        cmd.where = this.atEnd() ? undefined : this.or();
        return;
      }
      if (cmd.verb === 'print' && t.kind === 'word' && PRINT_FLAGS.has(t.value)) {
        cmd.args.push({ name: t.value, value: { kind: 'literal', value: '' }, token: t });
        this.i++;
        continue;
      }
      if (cmd.verb === 'print' && t.kind === 'word' && t.value.startsWith('proplist=')) {
        cmd.args.push(this.arg(t, new Set(['proplist'])));
        continue;
      }
      if (cmd.verb === 'find') {
        cmd.where = this.or();
        return;
      }
      throw expectedEnd(t);
    }
  }

  /** Named arguments from `names`, and up to `positional` unnamed ones. */
  private args(names: ReadonlySet<string> | undefined, positional: number): ArgNode[] {
    const out: ArgNode[] = [];
    let unnamed = 0;
    while (!this.atEnd()) {
      const t = this.peek() as Token;
      if (t.kind === 'word' && /^[a-z0-9.-]+=/.test(t.value) && names) {
        out.push(this.arg(t, names));
        continue;
      }
      if (unnamed >= positional) throw expectedEnd(t);
      unnamed++;
      out.push({ value: this.value(), token: t });
    }
    return out;
  }

  private arg(t: Token, names: ReadonlySet<string>): ArgNode {
    const eq = t.value.indexOf('=');
    const name = t.value.slice(0, eq);
    if (!names.has(name)) throw expectedEnd(t);
    this.i++;
    const rest = t.value.slice(eq + 1);
    const next = this.peek();
    if (rest === '' && next && next.glued && (next.kind === 'string' || next.kind === 'var' || next.kind === '['))
      return { name, value: this.value(), token: t };
    return { name, value: { kind: 'literal', value: rest }, token: t };
  }

  /** A word, a string, a variable or `[ command ]`. */
  private value(): ValueNode {
    const t = this.peek();
    if (!t) throw new ConsoleError('expected value');
    this.i++;
    if (t.kind === 'word' || t.kind === 'string' || t.kind === 'var') return { kind: 'literal', value: t.value };
    if (t.kind === '[') {
      const scope = this.scope;
      const command = this.command(false);
      this.scope = scope;
      const close = this.peek();
      if (!close || close.kind !== ']') throw syntaxError(close ?? t);
      this.i++;
      return { kind: 'subst', command };
    }
    throw syntaxError(t);
  }

  private or(): WhereNode {
    let left = this.and();
    while (this.isWord('or') || this.isWord('||')) {
      this.i++;
      left = { kind: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): WhereNode {
    let left = this.not();
    for (;;) {
      if (this.isWord('and') || this.isWord('&&')) this.i++;
      else if (this.atEnd() || this.isWord('or') || this.isWord('||') || this.peek()?.kind === ')') return left;
      left = { kind: 'and', left, right: this.not() };
    }
  }

  private not(): WhereNode {
    if (this.isWord('not') || this.isWord('!')) {
      this.i++;
      return { kind: 'not', expr: this.not() };
    }
    return this.primary();
  }

  private primary(): WhereNode {
    const t = this.peek();
    if (!t) throw new ConsoleError('expected expression');
    if (t.kind === '(') {
      this.i++;
      const inner = this.or();
      if (this.peek()?.kind !== ')') throw syntaxError(this.peek() ?? t);
      this.i++;
      return inner;
    }
    if (t.kind !== 'word') throw syntaxError(t);
    const m = /^(!?)([a-z0-9.-]+)(=|!=|~|<=|>=|<|>)?(.*)$/s.exec(t.value);
    if (!m) throw syntaxError(t);
    this.i++;
    const [, bang, prop = '', op, rest = ''] = m;
    if (!op) {
      if (rest !== '') throw syntaxError(t);
      const has: WhereNode = { kind: 'has', prop };
      return bang ? { kind: 'not', expr: has } : has;
    }
    if (bang) throw syntaxError(t);
    const next = this.peek();
    const value: ValueNode =
      rest === '' && next && next.glued && (next.kind === 'string' || next.kind === 'var' || next.kind === '[')
        ? this.value()
        : { kind: 'literal', value: rest };
    return { kind: 'cmp', prop, op, value };
  }

  private isWord(w: string): boolean {
    const t = this.peek();
    return t?.kind === 'word' && t.value === w;
  }
}
