/**
 * One API connection of the emulator: sentences in, replies out, exactly as RouterOS frames them.
 * Commands run concurrently per `.tag`; each command's replies wait for the configured latency on
 * their own timer, so a slow router still answers many tagged commands at once.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { encodeWin1252 } from '@mtandao/agent/routeros-encoding';
import { encodeSentences, SentenceReader, splitAttribute, WireError } from '@mtandao/agent/routeros-wire';
import { afterLatency, type SimContext } from './context.ts';
import { MENUS, isMenuPrefix } from './menus.ts';
import { parseBool } from '@mtandao/agent/routeros-values';
import { compileQuery } from './query.ts';
import { RosError, type Row, type StoreChange } from './store.ts';

/** Before login RouterOS limits what a client may send. */
const PRE_LOGIN_LIMITS = { maxWordBytes: 4096, maxSentenceBytes: 16384 };
const LOGGED_IN_LIMITS = { maxWordBytes: 64 * 1024 * 1024, maxSentenceBytes: 128 * 1024 * 1024 };
const WRITE_VERBS = new Set(['add', 'set', 'remove', 'enable', 'disable', 'unset']);

interface Command {
  word: string;
  attrs: Record<string, string>;
  queries: string[];
  tag: string | undefined;
  proplist: string[] | undefined;
}

interface Pending {
  tag: string | undefined;
  cancelled: boolean;
  timer?: NodeJS.Timeout;
  stop?: () => void;
}

/** Parses a sentence into its command word, attributes, API attributes and queries. */
function parseSentence(words: readonly string[]): Command {
  const attrs: Record<string, string> = {};
  const queries: string[] = [];
  let tag: string | undefined;
  let proplist: string[] | undefined;
  for (const w of words.slice(1)) {
    if (w.startsWith('?')) queries.push(w);
    else if (w.startsWith('.tag=')) tag = w.slice(5);
    else {
      const a = splitAttribute(w);
      // `.proplist` travels as an attribute: `=.proplist=name,comment`.
      if (a?.[0] === '.proplist') proplist = a[1].split(',').filter(Boolean);
      else if (a) attrs[a[0]] = a[1];
    }
  }
  return { word: words[0] ?? '', attrs, queries, tag, proplist };
}

const trapWords = (e: RosError): string[] => [...(e.category === undefined ? [] : [`=category=${e.category}`]), `=message=${e.message}`];

/** Serves one API client on its socket. */
export class ApiSession {
  private readonly reader = new SentenceReader(PRE_LOGIN_LIMITS);
  private user: string | undefined;
  private challenge: Buffer | undefined;
  private readonly pending = new Set<Pending>();
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly ctx: SimContext,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  private onData(chunk: Buffer): void {
    let sentences: string[][];
    try {
      sentences = this.reader.push(chunk);
    } catch (e) {
      this.fatal(e instanceof WireError ? e.message : 'protocol error');
      return;
    }
    for (const s of sentences) {
      if (this.closed) return;
      this.ctx.counters.commands++;
      if (this.pending.size === 0 && this.user !== undefined) this.ctx.counters.rounds++;
      this.handle(parseSentence(s));
    }
  }

  private handle(cmd: Command): void {
    if (cmd.word === '/login') return this.login(cmd);
    if (this.user === undefined) return this.fatal('not logged in');
    if (cmd.word === '/cancel') return this.cancel(cmd);
    if (cmd.word === '/quit') return this.fatal('session terminated on request');

    const cut = cmd.word.lastIndexOf('/');
    const path = cmd.word.slice(0, cut);
    const verb = cmd.word.slice(cut + 1);
    const spec = MENUS.get(path);
    if (!cmd.word.startsWith('/') || !spec) {
      const known = cmd.word.startsWith('/') && isMenuPrefix(cmd.word);
      return this.reply(cmd, (out) => this.trap(out, cmd, new RosError(known ? 'no such command' : 'no such command prefix', 0)));
    }
    if (verb === 'listen') return this.listen(cmd, path);
    this.reply(
      cmd,
      (out) => {
        if (verb === 'print' || verb === 'getall') return this.print(out, cmd, path);
        if (!WRITE_VERBS.has(verb)) throw new RosError('no such command', 0);
        const ret = this.write(cmd, path, verb);
        out.push(['!done', ...this.tagWords(cmd), ...(ret === undefined ? [] : [`=ret=${ret}`])]);
      },
      WRITE_VERBS.has(verb),
    );
  }

  private write(cmd: Command, path: string, verb: string): string | undefined {
    const store = this.ctx.store;
    const { '.id': idAttr, numbers, 'value-name': valueName, ...props } = cmd.attrs;
    if (verb === 'add') return store.add(path, props);
    const spec = store.menu(path);
    const refs = (idAttr ?? numbers ?? '').split(',').filter(Boolean);
    if (!spec?.singleton && refs.length === 0) throw new RosError('no such item', 1);
    if (verb === 'set') store.set(path, refs, props);
    else if (verb === 'remove') store.remove(path, refs);
    else if (verb === 'unset') store.unset(path, refs, (valueName ?? '').split(',').filter(Boolean));
    else store.setDisabled(path, refs, verb === 'disable');
    return undefined;
  }

  private print(out: string[][], cmd: Command, path: string): void {
    // Queries may test properties the proplist leaves out: build whole rows only when there are queries.
    const rows = cmd.queries.length > 0 ? this.queried(path, cmd.queries) : this.ctx.store.list(path, cmd.proplist);
    if ('count-only' in cmd.attrs) {
      out.push(['!done', ...this.tagWords(cmd), `=ret=${rows.length}`]);
      return;
    }
    for (const row of rows) out.push(['!re', ...this.tagWords(cmd), ...this.rowWords(row, cmd.proplist)]);
    if (rows.length === 0 && this.ctx.emptyReply) out.push(['!empty', ...this.tagWords(cmd)]);
    out.push(['!done', ...this.tagWords(cmd)]);
  }

  /**
   * The rows a query selects. Words without `?#` operators are ANDed, so one `?field=value` on an
   * indexed field narrows the candidates before the whole query is checked.
   */
  private queried(path: string, queries: readonly string[]): Row[] {
    const match = compileQuery(queries);
    if (!queries.some((q) => q.startsWith('?#'))) {
      for (const q of queries) {
        const m = /^\?([^=<>#-][^=]*)=(.*)$/s.exec(q);
        // `yes`/`true`-like values compare as booleans: leave those to the scan
        const candidates = m && parseBool(m[2]!) === undefined ? this.ctx.store.lookup(path, m[1]!, m[2]!) : undefined;
        if (candidates) return candidates.filter(match);
      }
    }
    return this.ctx.store.list(path).filter(match);
  }

  /** `listen`: one `!re` per change until cancelled; a removal is `=.dead=yes`. */
  private listen(cmd: Command, path: string): void {
    const p = this.track(cmd);
    const onChange = (c: StoreChange) => {
      if (c.path !== path || p.cancelled) return;
      const words = ['!re', ...this.tagWords(cmd), ...this.rowWords(c.row, c.dead ? undefined : cmd.proplist), ...(c.dead ? ['=.dead=yes'] : [])];
      afterLatency(this.ctx, () => this.send([words]));
    };
    this.ctx.store.on('change', onChange);
    p.stop = () => this.ctx.store.off('change', onChange);
  }

  private login(cmd: Command): void {
    const { name, password, response } = cmd.attrs;
    this.reply(cmd, (out) => {
      let ok: boolean;
      if (name !== undefined && password !== undefined) ok = this.ctx.checkLogin(name, (p) => p === password);
      else if (name !== undefined && response !== undefined && this.challenge) ok = this.checkChallenge(name, response, this.challenge);
      else {
        // Before 6.43 the router answered a bare /login with an MD5 challenge.
        this.challenge = randomBytes(16);
        out.push(['!done', ...this.tagWords(cmd), `=ret=${this.challenge.toString('hex')}`]);
        return;
      }
      if (!ok) {
        this.trap(out, cmd, new RosError('invalid user name or password (6)'));
        return;
      }
      this.user = name;
      this.reader.setLimits(LOGGED_IN_LIMITS);
      out.push(['!done', ...this.tagWords(cmd)]);
    });
  }

  private checkChallenge(name: string, response: string, challenge: Buffer): boolean {
    this.challenge = undefined;
    const md5 = (password: string) =>
      createHash('md5')
        .update(Buffer.concat([Buffer.from([0]), encodeWin1252(password), challenge]))
        .digest('hex');
    return this.ctx.checkLogin(name, (password) => response === `00${md5(password)}`);
  }

  private cancel(cmd: Command): void {
    const target = cmd.attrs.tag;
    const victims = [...this.pending].filter((p) => (target === undefined ? p.tag !== cmd.tag : p.tag === target));
    const out: string[][] = [];
    for (const p of victims) {
      this.finish(p);
      out.push(['!trap', ...(p.tag === undefined ? [] : [`.tag=${p.tag}`]), '=category=2', '=message=interrupted']);
    }
    out.push(['!done', ...this.tagWords(cmd)]);
    for (const p of victims) out.push(['!done', ...(p.tag === undefined ? [] : [`.tag=${p.tag}`])]);
    afterLatency(this.ctx, () => this.send(out));
  }

  /**
   * Runs a command on the router's CPU, then sends what it wrote to `out` after the latency,
   * unless `/cancel` came first.
   */
  private reply(cmd: Command, run: (out: string[][]) => void, write = false): void {
    const p = this.track(cmd);
    this.ctx.cpu.submit(write, () => {
      if (p.cancelled || this.closed) return;
      const out: string[][] = [];
      try {
        run(out);
      } catch (e) {
        out.length = 0;
        this.trap(out, cmd, e instanceof RosError ? e : new RosError(`failure: ${(e as Error).message}`, 4));
      }
      p.timer = afterLatency(this.ctx, () => {
        if (p.cancelled) return;
        this.finish(p);
        this.send(out);
      });
    });
  }

  private track(cmd: Command): Pending {
    const p: Pending = { tag: cmd.tag, cancelled: false };
    this.pending.add(p);
    this.ctx.counters.inFlight++;
    this.ctx.counters.maxInFlightPerConnection = Math.max(this.ctx.counters.maxInFlightPerConnection, this.pending.size);
    return p;
  }

  private finish(p: Pending): void {
    if (p.cancelled) return;
    p.cancelled = true;
    if (p.timer) clearTimeout(p.timer);
    p.stop?.();
    if (this.pending.delete(p)) this.ctx.counters.inFlight--;
  }

  private trap(out: string[][], cmd: Command, e: RosError): void {
    out.push(['!trap', ...this.tagWords(cmd), ...trapWords(e)]);
    out.push(['!done', ...this.tagWords(cmd)]);
  }

  private tagWords(cmd: Command): string[] {
    return cmd.tag === undefined ? [] : [`.tag=${cmd.tag}`];
  }

  private rowWords(row: Row, proplist: string[] | undefined): string[] {
    const keys = proplist ?? Object.keys(row);
    return keys.filter((k) => row[k] !== undefined).map((k) => `=${k}=${row[k]}`);
  }

  private send(sentences: string[][]): void {
    if (this.closed || sentences.length === 0) return;
    this.socket.write(encodeSentences(sentences));
  }

  private fatal(reason: string): void {
    if (this.closed) return;
    this.send([['!fatal', reason]]);
    this.socket.end();
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of [...this.pending]) this.finish(p);
  }
}
