/**
 * Applying one plan or one customer: read what is there, diff, write only the difference, in
 * dependency order (profile before secret). An entry is found by its marker first, then by its
 * name: an entry of that name without Mtandao's marker is never taken over (SPEC section 7), the
 * command fails naming it, and an `add` the router refuses with "already exists" is followed by
 * the same lookup. Applying twice writes nothing the second time.
 */
import { customerMarker, planMarker, type ApplyResult, type ConnectionType, type CustomerRef, type CustomerSpec, type PlanSpec } from '@mtandao/protocol';
import { RouterError, unmanagedEntry, type RouterClient, type RouterRow } from '../drivers/types.ts';
import {
  ALL_CUSTOMER_MENUS,
  CUSTOMER_MARKER_PREFIX,
  CUSTOMER_MENUS,
  MENU,
  PLAN_MARKER_PREFIX,
  PROFILE_MENU,
  SESSION_FIELDS,
  SESSIONS,
  customerEntries,
  difference,
  profileEntry,
  refMarker,
  type DesiredEntry,
} from './model.ts';
import { isAlreadyExists, Writer } from './writer.ts';

/** Where an entry stands on the router. */
interface Found {
  /** Entries carrying the marker (more than one is drift: the rest are removed). */
  marked: RouterRow[];
  /** Entries holding the entry's name (or address), marked or not. */
  holders: RouterRow[];
}

/** What {@link ensure} did to one entry. */
interface Outcome {
  /** Properties it changed (none when it created the entry). */
  changed: string[];
  /** The name before a rename. */
  previousName?: string;
  created: boolean;
}

const ADDRESS_LISTS = new Set(['mtandao-active', 'mtandao-blocked']);

/** Looks an entry up by marker and by name, in one round trip. */
async function locate(client: RouterClient, entry: DesiredEntry): Promise<Found> {
  const keyValue = entry.props[entry.key] ?? '';
  const [marked, holders] = await Promise.all([client.print(entry.menu, { where: { comment: entry.marker } }), client.print(entry.menu, { where: { [entry.key]: keyValue } })]);
  // An address may sit in many lists; only Mtandao's lists hold customers.
  return { marked, holders: entry.menu === MENU.addressList ? holders.filter((r) => ADDRESS_LISTS.has(r.list ?? '')) : holders };
}

/** Whom a marked entry belongs to, for a conflict message. */
const owner = (row: RouterRow): string | undefined => {
  const c = row.comment ?? '';
  return c.startsWith(CUSTOMER_MARKER_PREFIX) || c.startsWith(PLAN_MARKER_PREFIX) ? c : undefined;
};

/** Makes one entry match: update the marked one or add it; an unmarked namesake fails the command. */
async function ensure(w: Writer, entry: DesiredEntry, found: Found): Promise<Outcome> {
  const [primary, ...duplicates] = found.marked;
  await Promise.all(duplicates.map((d) => w.remove(entry.menu, d, 'remove duplicate')));
  if (primary) {
    const diff = difference(entry.props, primary);
    if (Object.keys(diff).length === 0) {
      w.summary.unchanged++;
      return { changed: [], created: false };
    }
    await w.set(entry.menu, primary, diff);
    return { changed: Object.keys(diff), created: false, ...(diff.name !== undefined && primary.name ? { previousName: primary.name } : {}) };
  }
  const holder = found.holders[0];
  if (holder) refuse(w, entry, holder);
  try {
    await w.add(entry.menu, entry.props);
    return { changed: [], created: true };
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    // Someone added it between our print and our add: look again.
    const again = await locate(w.client, entry);
    if (again.marked[0]) return ensure(w, entry, again);
    if (again.holders[0]) refuse(w, entry, again.holders[0]);
    throw e;
  }
}

/** An entry holds the name Mtandao wants and is not this entry: fail, touching nothing. */
function refuse(w: Writer, entry: DesiredEntry, holder: RouterRow): never {
  w.summary.conflicts++;
  const other = owner(holder);
  const name = entry.props[entry.key] ?? '';
  if (other && other !== entry.marker) throw new RouterError('conflict', `${entry.menu} ${name} belongs to ${other}, not ${entry.marker}`, { retryable: false });
  throw unmanagedEntry(entry.menu, name);
}

/** Removes the sessions of the given users from a session menu. */
async function kick(w: Writer, type: ConnectionType, users: Iterable<string>): Promise<void> {
  const sessions = SESSIONS[type];
  if (!sessions) return;
  const rows = await Promise.all([...new Set(users)].map((u) => w.client.print(sessions.menu, { where: { [sessions.user]: u } })));
  await Promise.all(rows.flat().map((r) => w.remove(sessions.menu, r, 'kick')));
}

/** Makes a plan's profile match (static plans have none). */
export async function applyPlan(client: RouterClient, plan: PlanSpec): Promise<ApplyResult> {
  const w = new Writer(client);
  const entry = profileEntry(plan);
  if (entry) await ensure(w, entry, await locate(client, entry));
  return w.result();
}

/** Removes a plan's profile, if it is there. */
export async function removePlan(client: RouterClient, planId: string, connectionType: ConnectionType): Promise<ApplyResult> {
  const w = new Writer(client);
  const menu = PROFILE_MENU[connectionType];
  if (menu) {
    const rows = await client.print(menu, { where: { comment: planMarker(planId) } });
    await Promise.all(rows.map((r) => w.remove(menu, r)));
  }
  return w.result();
}

/**
 * Makes a customer's entries match: the plan's profile first, then the customer's entries; entries
 * the customer left behind in another connection type's menus are removed; a live session is
 * dropped when something it depends on changed, and whenever the customer is not active.
 */
export async function applyCustomer(client: RouterClient, spec: CustomerSpec): Promise<ApplyResult> {
  const w = new Writer(client);
  const marker = customerMarker(spec.customerId);
  const entries = customerEntries(spec);
  const profile = profileEntry(spec.plan);
  const strayMenus = ALL_CUSTOMER_MENUS.filter((m) => !entries.some((e) => e.menu === m));
  const [profileFound, found, strays] = await Promise.all([
    profile ? locate(client, profile) : undefined,
    Promise.all(entries.map((e) => locate(client, e))),
    Promise.all(strayMenus.map(async (menu) => (await client.print(menu, { where: { comment: marker } })).map((row) => ({ menu, row })))),
  ]);
  if (profile && profileFound) await ensure(w, profile, profileFound);
  // Entries from another connection type go first: they may hold this customer's IP or name.
  const stale = strays.flat();
  await Promise.all(stale.map((s) => w.remove(s.menu, s.row)));
  const outcomes = await Promise.all(entries.map((e, i) => ensure(w, e, found[i] as Found)));

  for (const type of ['pppoe', 'hotspot'] as const) {
    const users = new Set<string>();
    if (type === spec.connectionType) {
      const o = outcomes[0] as Outcome;
      if (spec.status !== 'active' || o.changed.some((f) => SESSION_FIELDS.has(f))) users.add(spec.username);
      if (o.previousName) users.add(o.previousName);
    }
    for (const s of stale) if (CUSTOMER_MENUS[type].includes(s.menu) && s.row.name) users.add(s.row.name);
    if (users.size > 0) await kick(w, type, users);
  }
  return w.result();
}

/**
 * Removes every entry carrying the customer's marker and drops the customer's sessions (unless the
 * username belongs to an entry Mtandao does not manage). Removing twice is fine.
 */
export async function removeCustomer(client: RouterClient, ref: CustomerRef): Promise<ApplyResult> {
  const w = new Writer(client);
  const marker = refMarker(ref);
  const menu = CUSTOMER_MENUS[ref.connectionType][0] as string;
  const [found, namesakes] = await Promise.all([
    Promise.all(ALL_CUSTOMER_MENUS.map(async (m) => (await client.print(m, { where: { comment: marker } })).map((row) => ({ menu: m, row })))),
    SESSIONS[ref.connectionType] ? client.print(menu, { where: { name: ref.username } }) : Promise.resolve([]),
  ]);
  const entries = found.flat();
  await Promise.all(entries.map((e) => w.remove(e.menu, e.row)));
  const foreign = namesakes.some((r) => (r.comment ?? '') !== marker);
  for (const type of ['pppoe', 'hotspot'] as const) {
    const users = entries.filter((e) => CUSTOMER_MENUS[type].includes(e.menu) && e.row.name).map((e) => e.row.name as string);
    if (type === ref.connectionType && !foreign) users.push(ref.username);
    if (users.length > 0) await kick(w, type, users);
  }
  return w.result();
}

/** Drops the customer's live session now (static customers have none). */
export async function disconnectCustomer(client: RouterClient, ref: CustomerRef): Promise<ApplyResult> {
  const w = new Writer(client);
  await kick(w, ref.connectionType, [ref.username]);
  return w.result();
}
