/**
 * The emulated router's configuration: one in-memory store behind both the API and the CLI. Values
 * are kept in the form RouterOS reads them back (`max-limit` `5000000/10000000`, `target`
 * `10.0.0.5/32`, durations `4w2d`, booleans `true`/`false`); every write is checked in full before
 * anything changes, and refused with RouterOS's own words.
 */
import { EventEmitter } from 'node:events';
import { formatDuration, formatIpv4, normalisePrefix, normaliseRatePair, parseBool, parseDuration, parseIpv4, parseRate } from '@mtandao/agent/routeros-values';
import { MENUS, type FieldSpec, type MenuSpec, type Verb } from './menus.ts';

/** A refusal, as the API's `!trap` (with `=category=` when RouterOS gives one) or a CLI error line. */
export class RosError extends Error {
  constructor(
    message: string,
    readonly category?: number,
  ) {
    super(message);
    this.name = 'RosError';
  }
}

/** A row as RouterOS prints it over the API. */
export type Row = Record<string, string>;

interface Entry {
  id: number;
  props: Map<string, string>;
  createdAt: number;
  /** Sessions: seconds added to the uptime by {@link RouterStore.advance} (a test's clock jump). */
  uptimeOffset?: number;
}

interface MenuState {
  spec: MenuSpec;
  entries: Map<number, Entry>;
  nextId: number;
  autoNames: number;
  /** One index per uniqueness rule: the rule's key → the id holding it. */
  unique: Map<string, number>[];
  /** Equality lookups (`?comment=…`, `?name=…`): field → value → ids. */
  lookup: Map<string, Map<string, Set<number>>>;
}

/** Fields a print looks entries up by often enough to index (a router scans; its scan is in C). */
const LOOKUP_FIELDS = ['name', 'comment', 'user', 'address'] as const;

/** Something that changed, for `listen`. */
export interface StoreChange {
  path: string;
  row: Row;
  dead: boolean;
}

/** What the store counts, for tests and benchmarks. */
export interface StoreCounters {
  /** Successful write commands (add, set, remove, enable, disable, unset), from any transport. */
  writes: number;
  /** Entries added, changed or removed by those commands. */
  entriesTouched: number;
}

/** `*1A` for 0x1A. */
export const formatId = (id: number): string => `*${id.toString(16).toUpperCase()}`;

const ID = /^\*([0-9A-Fa-f]{1,8})$/;

/** Options of a store. */
export interface StoreOptions {
  version: string;
  identity: string;
  now?: () => number;
}

/** The emulated configuration. Emits `change` with a {@link StoreChange}. */
export class RouterStore extends EventEmitter {
  readonly counters: StoreCounters = { writes: 0, entriesTouched: 0 };
  identity: string;
  readonly version: string;
  private readonly menus = new Map<string, MenuState>();
  private readonly now: () => number;
  private bootedAt: number;

  constructor(options: StoreOptions) {
    super();
    this.version = options.version;
    this.identity = options.identity;
    this.now = options.now ?? Date.now;
    this.bootedAt = this.now();
    this.fill();
  }

  /** Every menu as a router fresh from the factory has it: the built-in entries only. */
  private fill(): void {
    for (const spec of MENUS.values()) {
      const state: MenuState = {
        spec,
        entries: new Map(),
        nextId: spec.firstId,
        autoNames: 0,
        unique: spec.unique.map(() => new Map()),
        lookup: new Map(LOOKUP_FIELDS.map((f) => [f, new Map()])),
      };
      for (const b of spec.builtins ?? []) this.insert(state, { id: b.id, props: new Map(Object.entries(b.props)), createdAt: this.bootedAt });
      this.menus.set(spec.path, state);
    }
  }

  /** How far the router's clock is from the real one (tests set it to play a router without NTP). */
  clockOffsetMs = 0;

  /** `/system/clock` as RouterOS 7.10+ prints it, in Kenya's time zone (EAT, UTC+3, no DST). */
  private clockRow(): Row {
    const local = new Date(this.now() + this.clockOffsetMs + 3 * 3600_000).toISOString();
    return {
      time: local.slice(11, 19),
      date: local.slice(0, 10),
      'time-zone-autodetect': 'true',
      'time-zone-name': 'Africa/Nairobi',
      'gmt-offset': '+03:00',
      'dst-active': 'false',
    };
  }

  /** A restart: uptime starts again from 0; `empty` also drops the configuration (a reset, a new router). */
  reboot(empty: boolean): void {
    this.bootedAt = this.now();
    if (empty) {
      this.menus.clear();
      this.fill();
    }
  }

  /** The spec of a menu, or undefined. */
  menu(path: string): MenuSpec | undefined {
    return this.menus.get(path)?.spec;
  }

  /** Every row of a menu as the API prints it; only `fields` (and `.id`) when given. */
  list(path: string, fields?: readonly string[]): Row[] {
    const state = this.state(path);
    if (state.spec.singleton) return [this.singletonRow(state.spec)];
    return [...state.entries.values()].map((e) => this.row(state.spec, e, fields));
  }

  /**
   * Rows whose `field` equals `value` (with the default counted), as full rows; undefined when the
   * field is not indexed and the caller must scan.
   */
  lookup(path: string, field: string, value: string): Row[] | undefined {
    const state = this.state(path);
    const idx = state.lookup.get(field);
    if (!idx || state.spec.singleton || state.spec.fields[field]?.default !== undefined) return undefined;
    const ids = idx.get(value);
    return ids ? [...ids].map((id) => this.row(state.spec, state.entries.get(id)!)) : [];
  }

  /** One row by id (`*1A`), or undefined. */
  get(path: string, id: string): Row | undefined {
    const m = ID.exec(id);
    const e = m ? this.state(path).entries.get(parseInt(m[1] as string, 16)) : undefined;
    return e ? this.row(this.state(path).spec, e) : undefined;
  }

  /** Resolves item references (`*1A`, or a name where the menu has one) to ids; `no such item` otherwise. */
  resolve(path: string, refs: readonly string[]): string[] {
    const state = this.state(path);
    return refs.map((ref) => formatId(this.find(state, ref).id));
  }

  /** Adds an entry; returns its id. `internal` lets tests add sessions, which RouterOS itself creates. */
  add(path: string, input: Readonly<Record<string, string>>, options: { internal?: boolean } = {}): string {
    const state = this.state(path);
    this.allow(state, 'add', options.internal);
    const props = new Map<string, string>();
    for (const [k, v] of Object.entries(input)) props.set(k, this.parse(state.spec, k, v, options.internal));
    if (state.spec.autoName && !props.has('name')) {
      do state.autoNames++;
      while (this.byName(state, `${state.spec.autoName}${state.autoNames}`));
      props.set('name', `${state.spec.autoName}${state.autoNames}`);
    }
    for (const r of state.spec.required) if (!props.get(r.field)) throw new RosError(r.message, 1);
    this.checkUnique(state, [[undefined, props]]);
    if (path === '/ip/firewall/address-list') props.set('creation-time', new Date(this.now()).toISOString().slice(0, 19).replace('T', ' '));
    const entry: Entry = { id: state.nextId++, props, createdAt: this.now() };
    this.insert(state, entry);
    this.wrote(1);
    this.changed(state.spec, entry, false);
    return formatId(entry.id);
  }

  /** Changes properties of the referenced entries. */
  set(path: string, refs: readonly string[], input: Readonly<Record<string, string>>): void {
    const state = this.state(path);
    this.allow(state, 'set');
    if (state.spec.singleton) {
      for (const [k, v] of Object.entries(input)) {
        if (path !== '/system/identity' || k !== 'name') throw new RosError(`unknown parameter ${k}`, 1);
        this.identity = v;
      }
      this.wrote(1);
      return;
    }
    const entries = refs.map((r) => this.find(state, r));
    const parsed = Object.entries(input).map(([k, v]) => [k, this.parse(state.spec, k, v)] as const);
    this.checkUnique(
      state,
      entries.map((e) => {
        const next = new Map(e.props);
        for (const [k, v] of parsed) next.set(k, v);
        return [e.id, next] as const;
      }),
    );
    for (const e of entries) {
      const oldName = e.props.get('name');
      this.unindex(state, e);
      for (const [k, v] of parsed) e.props.set(k, v);
      this.index(state, e);
      const newName = e.props.get('name');
      if (oldName !== undefined && newName !== oldName) this.followRename(path, oldName, newName ?? '');
      this.changed(state.spec, e, false);
    }
    this.wrote(entries.length);
  }

  /** Returns properties to their defaults. */
  unset(path: string, refs: readonly string[], names: readonly string[]): void {
    const state = this.state(path);
    this.allow(state, 'unset');
    const entries = refs.map((r) => this.find(state, r));
    for (const n of names) {
      const f = state.spec.fields[n];
      if (!f || f.readOnly || n === 'name') throw new RosError(`unknown parameter ${n}`, 1);
    }
    for (const e of entries) {
      this.unindex(state, e);
      for (const n of names) e.props.delete(n);
      this.index(state, e);
      this.changed(state.spec, e, false);
    }
    this.wrote(entries.length);
  }

  /** Removes the referenced entries. */
  remove(path: string, refs: readonly string[]): void {
    const state = this.state(path);
    this.allow(state, 'remove');
    const entries = refs.map((r) => this.find(state, r));
    for (const e of entries) {
      if (state.spec.builtins?.some((b) => b.id === e.id)) throw new RosError(state.spec.builtinRemoveMessage ?? 'failure: can not remove', 4);
    }
    for (const e of entries) {
      this.unindex(state, e);
      state.entries.delete(e.id);
      this.changed(state.spec, e, true);
    }
    this.wrote(entries.length);
  }

  /** `enable` / `disable`. */
  setDisabled(path: string, refs: readonly string[], disabled: boolean): void {
    const state = this.state(path);
    this.allow(state, disabled ? 'disable' : 'enable');
    const entries = refs.map((r) => this.find(state, r));
    for (const e of entries) {
      e.props.set('disabled', String(disabled));
      this.changed(state.spec, e, false);
    }
    this.wrote(entries.length);
  }

  /**
   * Sets read-only properties (counters) of an entry as the router itself does, without counting a
   * write; `uptimeSeconds` moves a session's uptime on. Returns false when the entry is gone.
   */
  setCounters(path: string, id: string, props: Readonly<Record<string, string>>, uptimeSeconds = 0): boolean {
    const state = this.state(path);
    const m = ID.exec(id);
    const e = m ? state.entries.get(parseInt(m[1] as string, 16)) : undefined;
    if (!e) return false;
    this.unindex(state, e);
    for (const [k, v] of Object.entries(props)) e.props.set(k, v);
    if (uptimeSeconds) e.uptimeOffset = (e.uptimeOffset ?? 0) + uptimeSeconds;
    this.index(state, e);
    this.changed(state.spec, e, false);
    return true;
  }

  /** A live PPP session, as a client dialling in would create it. Returns its id. */
  addPppSession(name: string, props: Record<string, string> = {}): string {
    const secret = this.list('/ppp/secret').find((r) => r.name === name);
    const sessionId = `0x${(0x81000000 + this.state('/ppp/active').nextId).toString(16).toUpperCase()}`;
    return this.add(
      '/ppp/active',
      {
        name,
        service: 'pppoe',
        'caller-id': '02:00:00:00:00:01',
        encoding: '',
        'session-id': sessionId,
        ...(secret?.['remote-address'] ? { address: secret['remote-address'] } : {}),
        ...props,
      },
      { internal: true },
    );
  }

  /** A logged-in hotspot user, as a browser login would create it. Returns its id. */
  addHotspotSession(user: string, props: Record<string, string> = {}): string {
    return this.add('/ip/hotspot/active', { user, address: '10.5.50.2', 'mac-address': '02:00:00:00:00:02', ...props }, { internal: true });
  }

  private state(path: string): MenuState {
    const s = this.menus.get(path);
    if (!s) throw new RosError('no such command prefix', 0);
    return s;
  }

  private allow(state: MenuState, verb: Verb, internal = false): void {
    if (!internal && !state.spec.verbs.has(verb)) throw new RosError('no such command', 0);
  }

  private find(state: MenuState, ref: string): Entry {
    const m = ID.exec(ref);
    const entry = m ? state.entries.get(parseInt(m[1] as string, 16)) : this.byName(state, ref);
    if (!entry) throw new RosError('no such item', 1);
    return entry;
  }

  private byName(state: MenuState, name: string): Entry | undefined {
    const rule = state.spec.unique.findIndex((r) => r.fields.length === 1 && r.fields[0] === 'name');
    if (rule >= 0) {
      const id = state.unique[rule]?.get(JSON.stringify([name]));
      return id === undefined ? undefined : state.entries.get(id);
    }
    for (const e of state.entries.values()) if (e.props.get('name') === name) return e;
    return undefined;
  }

  private uniqueKey(state: MenuState, rule: number, props: Map<string, string>): string {
    return JSON.stringify((state.spec.unique[rule]?.fields ?? []).map((f) => props.get(f) ?? state.spec.fields[f]?.default ?? ''));
  }

  /** Refuses a write that would leave two entries with one key, against the store and within the write. */
  private checkUnique(state: MenuState, changes: readonly (readonly [number | undefined, Map<string, string>])[]): void {
    state.spec.unique.forEach((rule, i) => {
      const seen = new Set<string>();
      const moving = new Set(changes.map(([id]) => id));
      for (const [id, props] of changes) {
        const key = this.uniqueKey(state, i, props);
        const holder = state.unique[i]?.get(key);
        if (seen.has(key) || (holder !== undefined && holder !== id && !moving.has(holder))) throw new RosError(rule.message, 4);
        seen.add(key);
      }
    });
  }

  private insert(state: MenuState, e: Entry): void {
    state.entries.set(e.id, e);
    this.index(state, e);
  }

  private index(state: MenuState, e: Entry): void {
    state.unique.forEach((idx, i) => idx.set(this.uniqueKey(state, i, e.props), e.id));
    for (const [field, idx] of state.lookup) {
      const v = e.props.get(field);
      if (v === undefined) continue;
      let ids = idx.get(v);
      if (!ids) idx.set(v, (ids = new Set()));
      ids.add(e.id);
    }
  }

  private unindex(state: MenuState, e: Entry): void {
    state.unique.forEach((idx, i) => {
      const key = this.uniqueKey(state, i, e.props);
      if (idx.get(key) === e.id) idx.delete(key);
    });
    for (const [field, idx] of state.lookup) {
      const v = e.props.get(field);
      const ids = v === undefined ? undefined : idx.get(v);
      if (!ids) continue;
      ids.delete(e.id);
      if (ids.size === 0) idx.delete(v!);
    }
  }

  private followRename(path: string, oldName: string, newName: string): void {
    for (const s of this.menus.values()) {
      for (const [field, f] of Object.entries(s.spec.fields)) {
        if (f.type.kind !== 'ref' || f.type.menu !== path) continue;
        for (const e of s.entries.values()) if (e.props.get(field) === oldName) e.props.set(field, newName);
      }
    }
  }

  /** Parses one input value into its read-back form. */
  private parse(spec: MenuSpec, name: string, value: string, internal = false): string {
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
        const target = this.state(t.menu);
        if (![...target.entries.values()].some((e) => e.props.get('name') === value)) throw new RosError(`input does not match any value of ${name}`, 1);
        return value;
      }
    }
  }

  private row(spec: MenuSpec, e: Entry, only?: readonly string[]): Row {
    const row: Row = { '.id': formatId(e.id) };
    for (const name of only ?? Object.keys(spec.fields)) {
      const f = spec.fields[name];
      if (!f) continue;
      // a session's uptime runs with the clock; a hotspot user's is a counter the router keeps
      const v =
        name === 'uptime' && spec.firstId >= 0x80000000
          ? formatDuration(Math.floor((this.now() - e.createdAt) / 1000) + (e.uptimeOffset ?? 0))
          : (e.props.get(name) ?? f.default);
      if (v !== undefined) row[name] = v;
    }
    return row;
  }

  private singletonRow(spec: MenuSpec): Row {
    if (spec.path === '/system/identity') return { name: this.identity };
    if (spec.path === '/system/clock') return this.clockRow();
    const major = this.version.startsWith('6.') ? 'long-term' : 'stable';
    return {
      uptime: formatDuration(Math.floor((this.now() - this.bootedAt) / 1000)),
      version: `${this.version} (${major})`,
      'build-time': '2025-03-11 11:59:04',
      'factory-software': '7.1',
      'free-memory': '912482304',
      'total-memory': '1073741824',
      cpu: 'QEMU',
      'cpu-count': '1',
      'cpu-frequency': '2400',
      'cpu-load': '0',
      'free-hdd-space': '83648512',
      'total-hdd-space': '134217728',
      'architecture-name': 'x86_64',
      'board-name': 'CHR',
      platform: 'MikroTik',
    };
  }

  private wrote(entries: number): void {
    this.counters.writes++;
    this.counters.entriesTouched += entries;
  }

  private changed(spec: MenuSpec, e: Entry, dead: boolean): void {
    if (this.listenerCount('change') === 0) return;
    const row = dead ? { '.id': formatId(e.id) } : this.row(spec, e);
    this.emit('change', { path: spec.path, row, dead } satisfies StoreChange);
  }
}
