/**
 * Reconciling a whole router to the desired state, and reading its managed entries back.
 *
 * One print per menu (only the managed properties), a diff in memory, then the writes, all issued
 * at once so the driver pipelines them (the API driver keeps up to 256 on the wire): 1 000 writes at
 * 20 ms round trip take well under a second instead of 20 s one by one. Phases keep dependencies
 * right: profiles, then removal of stale customer entries (freeing names and addresses), then
 * customer entries, then sessions, then profiles no plan wants. Only entries carrying a marker are
 * ever written; an unmarked entry in the way is reported as a conflict and left alone.
 */
import type { ApplyResult, CustomerSpec, PlanSpec } from '@mtandao/protocol';
import { RouterError, type RouterClient, type RouterRow } from '../drivers/types.ts';
import {
  ALL_CUSTOMER_MENUS,
  ALL_PROFILE_MENUS,
  CUSTOMER_MARKER_PREFIX,
  CUSTOMER_MENUS,
  MENU,
  PLAN_MARKER_PREFIX,
  SESSION_FIELDS,
  SESSIONS,
  customerEntries,
  difference,
  isManaged,
  label,
  managedProps,
  profileEntry,
  type DesiredEntry,
} from './model.ts';
import { knownOf } from './known.ts';
import { Writer } from './writer.ts';

/** Everything a router should hold. */
export interface DesiredState {
  plans: readonly PlanSpec[];
  customers: readonly CustomerSpec[];
}

/** Options of {@link reconcileRouter}. */
export interface ReconcileOptions {
  /** Remove marked entries the desired state does not list (default true). */
  prune?: boolean;
}

/** A reconcile that could not write everything; `result` says what it did. */
export class ReconcileError extends RouterError {
  constructor(
    first: unknown,
    readonly result: ApplyResult,
    failed: number,
  ) {
    const e = first instanceof RouterError ? first : undefined;
    super(e?.category ?? 'protocol', `reconcile left ${failed} change(s) undone; first: ${first instanceof Error ? first.message : String(first)}`, {
      cause: first,
      retryable: e?.retryable ?? false,
      ...(e?.routerMessage === undefined ? {} : { routerMessage: e.routerMessage }),
    });
    this.name = 'ReconcileError';
  }
}

/** One menu's rows, indexed. */
class MenuIndex {
  readonly byMarker = new Map<string, RouterRow[]>();
  readonly byKey = new Map<string, RouterRow[]>();
  readonly removed = new Set<RouterRow>();

  constructor(
    readonly menu: string,
    readonly rows: readonly RouterRow[],
  ) {
    for (const r of rows) {
      if (r.comment) push(this.byMarker, r.comment, r);
      push(this.byKey, keyOf(menu, r), r);
    }
  }

  holders(key: string): RouterRow[] {
    return (this.byKey.get(key) ?? []).filter((r) => !this.removed.has(r));
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

const keyOf = (menu: string, row: Readonly<Record<string, string | undefined>>): string => (menu === MENU.addressList ? (row.address ?? '') : (row.name ?? ''));

/** What happened to one desired customer entry. */
interface Outcome {
  changed: string[];
  previousName?: string;
  /** Held by an entry Mtandao does not own: nothing of it, its sessions included, is touched. */
  conflict?: boolean;
}

/**
 * Makes the router hold exactly the desired plans and customers (of its marked entries) and
 * reports what it did: `summary` has created / updated / removed / unchanged / kicked /
 * conflicts / failed. Throws {@link ReconcileError} when some writes failed (after making all
 * the others).
 */
export async function reconcileRouter(client: RouterClient, desired: DesiredState, options: ReconcileOptions = {}): Promise<ApplyResult> {
  const prune = options.prune ?? true;
  // it may change anything: what the agent knew of single entries no longer holds
  knownOf(client).clear();
  const w = new Writer(client);
  const failures: unknown[] = [];
  const attempt = async <T>(op: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await op();
    } catch (e) {
      w.summary.failed++;
      failures.push(e);
      w.note(`failed: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  };

  const menus = [...ALL_PROFILE_MENUS, ...ALL_CUSTOMER_MENUS];
  // Every read goes out at once, sessions included, so the whole reconcile costs about two round
  // trips: one for the reads, one for the writes. The desired entries are worked out while the
  // router answers.
  const sessionTypes = (['pppoe', 'hotspot'] as const).filter((t) => SESSIONS[t]);
  const reads = Promise.all([
    Promise.all(menus.map((m) => client.print(m, { proplist: managedProps(m) }))),
    Promise.all(sessionTypes.map((t) => attempt(() => client.print(SESSIONS[t]!.menu, { proplist: ['.id', SESSIONS[t]!.user] })))),
  ]);

  const plans = new Map<string, PlanSpec>();
  for (const c of desired.customers) plans.set(c.plan.planId, c.plan);
  for (const p of desired.plans) plans.set(p.planId, p);
  const profiles = [...plans.values()].map(profileEntry).filter((e): e is DesiredEntry => e !== undefined);
  const customers: { spec: CustomerSpec; entries: DesiredEntry[] }[] = [];
  for (const spec of desired.customers) {
    try {
      customers.push({ spec, entries: customerEntries(spec) });
    } catch (e) {
      w.summary.failed++;
      failures.push(e);
      w.note(`failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  const [printed, sessionRows] = await reads;
  const index = new Map(menus.map((m, i) => [m, new MenuIndex(m, printed[i] ?? [])]));
  const at = (menu: string) => index.get(menu) as MenuIndex;

  // 1. Profiles, which customer entries refer to by name.
  await Promise.all(profiles.map((e) => attempt(() => converge(w, at(e.menu), e))));

  // 2. Marked customer entries nobody wants any more (or a second copy of one).
  const wanted = new Set(customers.flatMap((c) => c.entries.map((e) => `${e.menu} ${e.marker}`)));
  const stale: { menu: string; row: RouterRow }[] = [];
  if (prune) {
    for (const menu of ALL_CUSTOMER_MENUS) {
      for (const row of at(menu).rows) {
        const marker = row.comment ?? '';
        if (marker.startsWith(CUSTOMER_MARKER_PREFIX) && !wanted.has(`${menu} ${marker}`)) stale.push({ menu, row });
      }
    }
  }
  // Removals are queued first: one connection runs commands in the order sent, so a name a stale
  // entry frees is free before an add that wants it.
  const removals = Promise.all(stale.map((s) => attempt(() => removeRow(w, at(s.menu), s.row))));

  // 3. Customer entries, in the same wave of writes. The diff is worked out synchronously for all
  // 10 000 of them first; only the entries that differ become writes, sent in one go.
  const planned = customers.map((c) => c.entries.map((e) => planEntry(w, at(e.menu), e)));
  const writes: Promise<unknown>[] = [removals];
  for (const entries of planned) {
    for (const p of entries) if (p.write) writes.push(attempt(p.write));
  }
  await Promise.all(writes);
  const outcomes = planned.map((entries) => entries.map((p) => p.outcome));

  // 4. Sessions: of customers not active, of changed customers, of removed ones.
  const kicks: Record<'pppoe' | 'hotspot', Set<string>> = { pppoe: new Set(), hotspot: new Set() };
  customers.forEach((c, i) => {
    const type = c.spec.connectionType;
    if (type === 'static') return;
    const o = outcomes[i]?.[0];
    if (o?.conflict) return;
    if (c.spec.status !== 'active' || o?.changed.some((f) => SESSION_FIELDS.has(f))) kicks[type].add(c.spec.username);
    if (o?.previousName) kicks[type].add(o.previousName);
  });
  for (const s of stale) {
    for (const type of ['pppoe', 'hotspot'] as const) if (CUSTOMER_MENUS[type].includes(s.menu) && s.row.name) kicks[type].add(s.row.name);
  }
  await Promise.all(
    sessionTypes.map(async (type, i) => {
      const sessions = SESSIONS[type]!;
      if (kicks[type].size === 0) return;
      const rows = sessionRows[i] ?? [];
      await Promise.all(rows.filter((r) => kicks[type].has(r[sessions.user] ?? '')).map((r) => attempt(() => w.remove(sessions.menu, r, 'kick'))));
    }),
  );

  // 5. Profiles no plan wants, now that no managed entry points at them.
  if (prune) {
    const wantedProfiles = new Set(profiles.map((e) => `${e.menu} ${e.marker}`));
    const unwanted = ALL_PROFILE_MENUS.flatMap((menu) =>
      at(menu)
        .rows.filter((r) => (r.comment ?? '').startsWith(PLAN_MARKER_PREFIX) && !wantedProfiles.has(`${menu} ${r.comment}`) && !at(menu).removed.has(r))
        .map((row) => ({ menu, row })),
    );
    await Promise.all(unwanted.map((u) => attempt(() => removeRow(w, at(u.menu), u.row))));
  }

  const result = w.result(true);
  if (failures.length > 0) throw new ReconcileError(failures[0], result, failures.length);
  return result;
}

function removeRow(w: Writer, idx: MenuIndex, row: RouterRow): Promise<void> {
  idx.removed.add(row);
  return w.remove(idx.menu, row);
}

/** Makes one desired entry match, using the printed state only. */
async function converge(w: Writer, idx: MenuIndex, entry: DesiredEntry): Promise<Outcome> {
  const p = planEntry(w, idx, entry);
  if (p.write) await p.write();
  return p.outcome;
}

/**
 * Decides, without waiting on anything, what one desired entry needs: nothing, a `set` of the
 * properties that differ, an `add`, or (held by an unmarked entry) nothing but a conflict note.
 * Duplicates of a marked entry are removed. The write, if any, is returned to be sent later.
 */
function planEntry(w: Writer, idx: MenuIndex, entry: DesiredEntry): { outcome: Outcome; write?: () => Promise<unknown> } {
  const [primary, ...duplicates] = (idx.byMarker.get(entry.marker) ?? []).filter((r) => !idx.removed.has(r));
  for (const d of duplicates) idx.removed.add(d);
  const dropDuplicates = () => Promise.all(duplicates.map((d) => w.remove(idx.menu, d)));
  if (primary) {
    const diff = difference(entry.props, primary);
    const changed = Object.keys(diff);
    if (changed.length === 0) {
      w.summary.unchanged++;
      return duplicates.length > 0 ? { outcome: { changed: [] }, write: dropDuplicates } : { outcome: { changed: [] } };
    }
    return {
      outcome: { changed, ...(diff.name !== undefined && primary.name ? { previousName: primary.name } : {}) },
      write: async () => {
        await dropDuplicates();
        await w.set(entry.menu, primary, diff);
      },
    };
  }
  const key = keyOf(entry.menu, entry.props);
  const holder = idx.holders(key).find((r) => entry.menu !== MENU.addressList || r.list === entry.props.list || isManaged(r));
  if (holder) {
    w.summary.conflicts++;
    w.note(`conflict ${entry.menu} ${label(entry.menu, entry.props)}: held by ${holder.comment ? holder.comment : 'an entry without a marker'}, left alone`);
    return { outcome: { changed: [], conflict: true } };
  }
  return { outcome: { changed: [] }, write: () => w.add(entry.menu, entry.props) };
}

/** Reads one page of a router's managed entries for NOC (passwords left out). */
export async function readback(client: RouterClient, page: { offset?: number; limit?: number } = {}): Promise<ApplyResult> {
  const offset = page.offset ?? 0;
  const limit = page.limit ?? 200;
  const menus = [...ALL_PROFILE_MENUS, ...ALL_CUSTOMER_MENUS];
  const printed = await Promise.all(menus.map((m) => client.print(m)));
  const entries = menus.flatMap((menu, i) =>
    (printed[i] ?? []).filter(isManaged).map((row) => {
      const { '.id': id = '', comment = '', password: _password, ...props } = row;
      return { menu, id, comment, props };
    }),
  );
  return { changes: [], entries: entries.slice(offset, offset + limit), total: entries.length };
}
