/**
 * The emulated router's configuration: one in-memory store behind both the API and the CLI. Values
 * are kept in the form RouterOS reads them back (`max-limit` `5000000/10000000`, `target`
 * `10.0.0.5/32`, durations `4w2d`, booleans `true`/`false`); every write is checked in full before
 * anything changes, and refused with RouterOS's own words. The verbs live here; each menu's table
 * and indexes in `menu-table.ts`, value parsing in `field-values.ts`, the system rows in `system-rows.ts`.
 */
import { EventEmitter } from 'node:events';
import { formatDuration } from '@mtandao/agent/routeros-values';
import { parseValue } from './field-values.ts';
import {
  byName,
  checkUnique,
  entryById,
  findEntry,
  formatId,
  index,
  insert,
  newMenuState,
  parseId,
  unindex,
  type Entry,
  type MenuState,
  type Row,
} from './menu-table.ts';
import { MENUS, type MenuSpec, type Verb } from './menus.ts';
import { RosError } from './ros-error.ts';
import { clockRow, resourceRow } from './system-rows.ts';

export { RosError } from './ros-error.ts';
export { formatId, type Row } from './menu-table.ts';

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
    for (const spec of MENUS.values()) this.menus.set(spec.path, newMenuState(spec, this.bootedAt));
  }

  /** How far the router's clock is from the real one (tests set it to play a router without NTP). */
  clockOffsetMs = 0;

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
    if (parseId(id) === undefined) return undefined;
    const state = this.state(path);
    const e = entryById(state, id);
    return e ? this.row(state.spec, e) : undefined;
  }

  /** Resolves item references (`*1A`, or a name where the menu has one) to ids; `no such item` otherwise. */
  resolve(path: string, refs: readonly string[]): string[] {
    const state = this.state(path);
    return refs.map((ref) => formatId(findEntry(state, ref).id));
  }

  /** Adds an entry; returns its id. `internal` lets tests add sessions, which RouterOS itself creates. */
  add(path: string, input: Readonly<Record<string, string>>, options: { internal?: boolean } = {}): string {
    const state = this.state(path);
    this.allow(state, 'add', options.internal);
    const props = new Map<string, string>();
    for (const [k, v] of Object.entries(input)) props.set(k, this.parse(state.spec, k, v, options.internal));
    if (state.spec.autoName && !props.has('name')) {
      do state.autoNames++;
      while (byName(state, `${state.spec.autoName}${state.autoNames}`));
      props.set('name', `${state.spec.autoName}${state.autoNames}`);
    }
    for (const r of state.spec.required) if (!props.get(r.field)) throw new RosError(r.message, 1);
    checkUnique(state, [[undefined, props]]);
    if (path === '/ip/firewall/address-list') props.set('creation-time', new Date(this.now()).toISOString().slice(0, 19).replace('T', ' '));
    const entry: Entry = { id: state.nextId++, props, createdAt: this.now() };
    insert(state, entry);
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
    const entries = refs.map((r) => findEntry(state, r));
    const parsed = Object.entries(input).map(([k, v]) => [k, this.parse(state.spec, k, v)] as const);
    checkUnique(
      state,
      entries.map((e) => {
        const next = new Map(e.props);
        for (const [k, v] of parsed) next.set(k, v);
        return [e.id, next] as const;
      }),
    );
    for (const e of entries) {
      const oldName = e.props.get('name');
      unindex(state, e);
      for (const [k, v] of parsed) e.props.set(k, v);
      index(state, e);
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
    const entries = refs.map((r) => findEntry(state, r));
    for (const n of names) {
      const f = state.spec.fields[n];
      if (!f || f.readOnly || n === 'name') throw new RosError(`unknown parameter ${n}`, 1);
    }
    for (const e of entries) {
      unindex(state, e);
      for (const n of names) e.props.delete(n);
      index(state, e);
      this.changed(state.spec, e, false);
    }
    this.wrote(entries.length);
  }

  /** Removes the referenced entries. */
  remove(path: string, refs: readonly string[]): void {
    const state = this.state(path);
    this.allow(state, 'remove');
    const entries = refs.map((r) => findEntry(state, r));
    for (const e of entries) {
      if (state.spec.builtins?.some((b) => b.id === e.id)) throw new RosError(state.spec.builtinRemoveMessage ?? 'failure: can not remove', 4);
    }
    for (const e of entries) {
      unindex(state, e);
      state.entries.delete(e.id);
      this.changed(state.spec, e, true);
    }
    this.wrote(entries.length);
  }

  /** `enable` / `disable`. */
  setDisabled(path: string, refs: readonly string[], disabled: boolean): void {
    const state = this.state(path);
    this.allow(state, disabled ? 'disable' : 'enable');
    const entries = refs.map((r) => findEntry(state, r));
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
    const e = entryById(state, id);
    if (!e) return false;
    unindex(state, e);
    for (const [k, v] of Object.entries(props)) e.props.set(k, v);
    if (uptimeSeconds) e.uptimeOffset = (e.uptimeOffset ?? 0) + uptimeSeconds;
    index(state, e);
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

  /** Parses one input value into its read-back form (a reference must name an entry of its menu). */
  private parse(spec: MenuSpec, name: string, value: string, internal = false): string {
    const hasName = (menu: string, v: string): boolean => [...this.state(menu).entries.values()].some((e) => e.props.get('name') === v);
    return parseValue(spec, name, value, hasName, internal);
  }

  private followRename(path: string, oldName: string, newName: string): void {
    for (const s of this.menus.values()) {
      for (const [field, f] of Object.entries(s.spec.fields)) {
        if (f.type.kind !== 'ref' || f.type.menu !== path) continue;
        for (const e of s.entries.values()) if (e.props.get(field) === oldName) e.props.set(field, newName);
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
    if (spec.path === '/system/clock') return clockRow(this.now() + this.clockOffsetMs);
    return resourceRow(this.version, Math.floor((this.now() - this.bootedAt) / 1000));
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
