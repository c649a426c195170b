/**
 * One menu's entries and the indexes the store keeps over them: one per uniqueness rule (to refuse a
 * duplicate before anything changes) and equality lookups on the fields prints filter by. Entry ids
 * are numbers here and `*1A` on the wire.
 */
import type { MenuSpec } from './menus.ts';
import { RosError } from './ros-error.ts';

/** A row as RouterOS prints it over the API. */
export type Row = Record<string, string>;

/** One entry of a menu, its properties in read-back form. */
export interface Entry {
  id: number;
  props: Map<string, string>;
  createdAt: number;
  /** Sessions: seconds added to the uptime by `RouterStore.setCounters` (a test's clock jump). */
  uptimeOffset?: number;
}

/** A menu's entries with their indexes. */
export interface MenuState {
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

/** `*1A` for 0x1A. */
export const formatId = (id: number): string => `*${id.toString(16).toUpperCase()}`;

const ID = /^\*([0-9A-Fa-f]{1,8})$/;

/** 0x1A for `*1A`; undefined when the reference is not an id. */
export function parseId(ref: string): number | undefined {
  const m = ID.exec(ref);
  return m ? parseInt(m[1] as string, 16) : undefined;
}

/** The entry `*1A` names, or undefined (also for a reference that is not an id). */
export function entryById(state: MenuState, id: string): Entry | undefined {
  const n = parseId(id);
  return n === undefined ? undefined : state.entries.get(n);
}

/** A menu as a router fresh from the factory has it: the built-in entries only. */
export function newMenuState(spec: MenuSpec, bootedAt: number): MenuState {
  const state: MenuState = {
    spec,
    entries: new Map(),
    nextId: spec.firstId,
    autoNames: 0,
    unique: spec.unique.map(() => new Map()),
    lookup: new Map(LOOKUP_FIELDS.map((f) => [f, new Map()])),
  };
  for (const b of spec.builtins ?? []) insert(state, { id: b.id, props: new Map(Object.entries(b.props)), createdAt: bootedAt });
  return state;
}

/** The entry an item reference (`*1A`, or a name where the menu has one) names; `no such item` otherwise. */
export function findEntry(state: MenuState, ref: string): Entry {
  const id = parseId(ref);
  const entry = id !== undefined ? state.entries.get(id) : byName(state, ref);
  if (!entry) throw new RosError('no such item', 1);
  return entry;
}

/** The entry with this name, through the name's unique index when the menu has one. */
export function byName(state: MenuState, name: string): Entry | undefined {
  const rule = state.spec.unique.findIndex((r) => r.fields.length === 1 && r.fields[0] === 'name');
  if (rule >= 0) {
    const id = state.unique[rule]?.get(JSON.stringify([name]));
    return id === undefined ? undefined : state.entries.get(id);
  }
  for (const e of state.entries.values()) if (e.props.get('name') === name) return e;
  return undefined;
}

function uniqueKey(state: MenuState, rule: number, props: Map<string, string>): string {
  return JSON.stringify((state.spec.unique[rule]?.fields ?? []).map((f) => props.get(f) ?? state.spec.fields[f]?.default ?? ''));
}

/** Refuses a write that would leave two entries with one key, against the store and within the write. */
export function checkUnique(state: MenuState, changes: readonly (readonly [number | undefined, Map<string, string>])[]): void {
  state.spec.unique.forEach((rule, i) => {
    const seen = new Set<string>();
    const moving = new Set(changes.map(([id]) => id));
    for (const [id, props] of changes) {
      const key = uniqueKey(state, i, props);
      const holder = state.unique[i]?.get(key);
      if (seen.has(key) || (holder !== undefined && holder !== id && !moving.has(holder))) throw new RosError(rule.message, 4);
      seen.add(key);
    }
  });
}

/** Adds an entry and indexes it. */
export function insert(state: MenuState, e: Entry): void {
  state.entries.set(e.id, e);
  index(state, e);
}

/** Indexes an entry's current properties (after {@link unindex} and a change). */
export function index(state: MenuState, e: Entry): void {
  state.unique.forEach((idx, i) => idx.set(uniqueKey(state, i, e.props), e.id));
  for (const [field, idx] of state.lookup) {
    const v = e.props.get(field);
    if (v === undefined) continue;
    let ids = idx.get(v);
    if (!ids) idx.set(v, (ids = new Set()));
    ids.add(e.id);
  }
}

/** Drops an entry's current properties from the indexes (before a change or a removal). */
export function unindex(state: MenuState, e: Entry): void {
  state.unique.forEach((idx, i) => {
    const key = uniqueKey(state, i, e.props);
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
