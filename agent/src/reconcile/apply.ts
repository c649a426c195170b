/**
 * Applying one plan or one customer. The common case is one round trip (./known.ts): a new
 * customer's entries are added straight away, and an update writes the difference from the last
 * known state by item id and reads the entries back on the same round. Anything else, and whatever
 * that round finds unexpected, goes the slow way: read what is there, diff, write only the
 * difference, in dependency order (profile before secret). An entry is found by its marker first,
 * then by its name: an entry of that name without Mtandao's marker is never taken over (SPEC
 * section 7), the command fails naming it (undoing what its first round added), and an `add` the
 * router refuses with "already exists" is followed by the same lookup. Applying twice writes
 * nothing the second time.
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
import { knownOf, type KnownCustomer, type KnownEntries } from './known.ts';
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
  /** The entry's item id, when the router told it. */
  id?: string;
}

const ADDRESS_LISTS = new Set(['mtandao-active', 'mtandao-blocked']);

/** Looks an entry up by marker and by name, in one round trip. */
async function locate(client: RouterClient, entry: DesiredEntry): Promise<Found> {
  const keyValue = entry.props[entry.key] ?? '';
  const [marked, holders] = await Promise.all([
    client.print(entry.menu, { where: { comment: entry.marker } }),
    client.print(entry.menu, { where: { [entry.key]: keyValue } }),
  ]);
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
    const id = primary['.id'];
    if (Object.keys(diff).length === 0) {
      w.summary.unchanged++;
      return { changed: [], created: false, ...(id ? { id } : {}) };
    }
    await w.set(entry.menu, primary, diff);
    return {
      changed: Object.keys(diff),
      created: false,
      ...(id ? { id } : {}),
      ...(diff.name !== undefined && primary.name ? { previousName: primary.name } : {}),
    };
  }
  const holder = found.holders[0];
  if (holder) refuse(w, entry, holder);
  try {
    return { changed: [], created: true, id: await w.add(entry.menu, entry.props) };
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
  if (other && other !== entry.marker)
    throw new RouterError('conflict', `${entry.menu} ${name} belongs to ${other}, not ${entry.marker}`, { retryable: false });
  throw unmanagedEntry(entry.menu, name);
}

/** The live sessions of the given users (none for static customers). */
async function sessionsOf(client: RouterClient, type: ConnectionType, users: Iterable<string>): Promise<{ menu: string; rows: RouterRow[] }> {
  const sessions = SESSIONS[type];
  if (!sessions) return { menu: '', rows: [] };
  const rows = await Promise.all([...new Set(users)].map((u) => client.print(sessions.menu, { where: { [sessions.user]: u } })));
  return { menu: sessions.menu, rows: rows.flat() };
}

/** Removes the sessions of the given users from a session menu. */
async function kick(w: Writer, type: ConnectionType, users: Iterable<string>): Promise<void> {
  const found = await sessionsOf(w.client, type, users);
  await Promise.all(found.rows.map((r) => w.remove(found.menu, r, 'kick')));
}

/** Makes a plan's profile match (static plans have none). */
export async function applyPlan(client: RouterClient, plan: PlanSpec): Promise<ApplyResult> {
  const w = new Writer(client);
  const entry = profileEntry(plan);
  if (entry) {
    const known = knownOf(client);
    known.setProfile(entry.menu, entry.marker, undefined);
    const o = await ensure(w, entry, await locate(client, entry));
    if (o.id) known.setProfile(entry.menu, entry.marker, { ...entry.props, '.id': o.id });
  }
  return w.result();
}

/** Removes a plan's profile, if it is there. */
export async function removePlan(client: RouterClient, planId: string, connectionType: ConnectionType): Promise<ApplyResult> {
  const w = new Writer(client);
  const menu = PROFILE_MENU[connectionType];
  if (menu) {
    knownOf(client).setProfile(menu, planMarker(planId), undefined);
    const rows = await client.print(menu, { where: { comment: planMarker(planId) } });
    await Promise.all(rows.map((r) => w.remove(menu, r)));
  }
  return w.result();
}

/** How a customer.apply may go. */
export interface ApplyCustomerOptions {
  /** The controller says the customer was never on this router: add its entries straight away. */
  fresh?: boolean;
}

/**
 * Makes a customer's entries match: the plan's profile first, then the customer's entries; entries
 * the customer left behind in another connection type's menus are removed; a live session is
 * dropped when something it depends on changed, and whenever the customer is not active. One
 * round trip when the profile is known and the customer is new or known (see the file comment).
 */
export async function applyCustomer(client: RouterClient, spec: CustomerSpec, options: ApplyCustomerOptions = {}): Promise<ApplyResult> {
  const w = new Writer(client);
  const known = knownOf(client);
  const marker = customerMarker(spec.customerId);
  const entries = customerEntries(spec);
  const profile = profileEntry(spec.plan);
  const profileKnown = !profile || isCurrent(profile, known.profile(profile.menu, profile.marker));
  if (profileKnown) {
    const last = known.customer(marker);
    const fast = last ? await updateFromKnown(w, known, spec, entries, last) : options.fresh ? await addFresh(w, known, spec, entries) : undefined;
    if (fast) return fast;
  }
  try {
    return await applyCustomerSlowly(w, known, spec, entries, profile);
  } catch (e) {
    // An entry in the way of another: take back what this command added, so a refused customer
    // leaves nothing half-made behind (its profile stays: the plan's, not the customer's).
    const added = w.created.filter((a) => a.props.comment === customerMarker(spec.customerId));
    if (e instanceof RouterError && e.category === 'conflict' && added.length > 0) {
      known.forgetCustomer(customerMarker(spec.customerId));
      await Promise.allSettled(added.map((a) => w.client.remove(a.menu, a.id)));
    }
    throw e;
  }
}

/** Whether a known row still holds everything an entry wants. */
const isCurrent = (entry: DesiredEntry, row: RouterRow | null | undefined): row is RouterRow => !!row && Object.keys(difference(entry.props, row)).length === 0;

/**
 * A new customer: every entry added at once, one round trip. Undefined when the router refused any
 * of them (it exists already, or something is missing): the slow way takes over from there.
 */
async function addFresh(w: Writer, known: KnownEntries, spec: CustomerSpec, entries: DesiredEntry[]): Promise<ApplyResult | undefined> {
  // Nobody can be online as a user that did not exist, but a session of a removed namesake may
  // linger: for a customer added inactive, its sessions are looked up on the same round.
  const [added, sessions] = await Promise.all([
    Promise.allSettled(entries.map((e) => w.add(e.menu, e.props))),
    spec.status !== 'active' ? sessionsOf(w.client, spec.connectionType, [spec.username]).catch(() => undefined) : undefined,
  ]);
  if (added.some((a) => a.status === 'rejected')) return undefined;
  const rows: KnownCustomer = new Map(ALL_CUSTOMER_MENUS.map((m) => [m, null]));
  entries.forEach((e, i) => rows.set(e.menu, { ...e.props, '.id': (added[i] as PromiseFulfilledResult<string>).value }));
  known.setCustomer(customerMarker(spec.customerId), rows);
  if (spec.status !== 'active') {
    if (!sessions) await kick(w, spec.connectionType, [spec.username]);
    else await Promise.all(sessions.rows.map((r) => w.remove(sessions.menu, r, 'kick')));
  }
  return w.result();
}

/**
 * A known customer: the difference from the last known state written by item id, each entry read
 * back by its marker on the same round trip. Undefined when the connection type changed, a write
 * failed or the router holds something else than expected: the slow way takes over.
 */
async function updateFromKnown(
  w: Writer,
  known: KnownEntries,
  spec: CustomerSpec,
  entries: DesiredEntry[],
  last: KnownCustomer,
): Promise<ApplyResult | undefined> {
  const marker = customerMarker(spec.customerId);
  known.forgetCustomer(marker); // until this round proves what is there
  const menus = new Set(entries.map((e) => e.menu));
  if (ALL_CUSTOMER_MENUS.some((m) => !!last.get(m) !== menus.has(m))) return undefined;
  const diffs = entries.map((e) => difference(e.props, last.get(e.menu)!));
  const changed = new Set(diffs.flatMap((d) => Object.keys(d)));
  // whose sessions must drop is known before the round, so they are looked up on it too
  const previous = last.get(entries[0]!.menu)!.name;
  const users = new Set<string>();
  if (spec.status !== 'active' || [...changed].some((f) => SESSION_FIELDS.has(f))) users.add(spec.username);
  if (changed.has('name') && previous) users.add(previous);
  // the ids are only good on the session they were learnt on: the driver refuses the write on another
  const onSession = known.serial === undefined ? {} : { session: known.serial };
  const writes = entries.map((e, i) => (Object.keys(diffs[i]!).length > 0 ? w.set(e.menu, last.get(e.menu)!, diffs[i]!, 'set', onSession) : Promise.resolve()));
  const reads = entries.map((e) => w.client.print(e.menu, { where: { comment: marker } }));
  const [wrote, read, sessions] = await Promise.all([
    Promise.allSettled(writes),
    Promise.allSettled(reads),
    users.size > 0 ? sessionsOf(w.client, spec.connectionType, users).catch(() => undefined) : { menu: '', rows: [] },
  ]);
  if (wrote.some((r) => r.status === 'rejected') || read.some((r) => r.status === 'rejected')) return undefined;
  const rows: KnownCustomer = new Map(ALL_CUSTOMER_MENUS.map((m) => [m, null]));
  for (const [i, e] of entries.entries()) {
    const found = (read[i] as PromiseFulfilledResult<RouterRow[]>).value;
    const row = found[0];
    if (found.length !== 1 || row?.['.id'] !== last.get(e.menu)!['.id'] || !isCurrent(e, row)) return undefined;
    rows.set(e.menu, row);
  }
  known.setCustomer(marker, rows);
  for (const d of diffs) if (Object.keys(d).length === 0) w.summary.unchanged++;
  // the sessions read on the round were of the old settings: dropping them makes the user log in anew
  if (!sessions) await kick(w, spec.connectionType, users);
  else await Promise.all(sessions.rows.map((r) => w.remove(sessions.menu, r, 'kick')));
  return w.result();
}

/** The slow way: read every menu the customer may be in, diff, write; what it saw becomes known. */
async function applyCustomerSlowly(
  w: Writer,
  known: KnownEntries,
  spec: CustomerSpec,
  entries: DesiredEntry[],
  profile: DesiredEntry | undefined,
): Promise<ApplyResult> {
  const client = w.client;
  const marker = customerMarker(spec.customerId);
  known.forgetCustomer(marker);
  const strayMenus = ALL_CUSTOMER_MENUS.filter((m) => !entries.some((e) => e.menu === m));
  const [profileFound, found, strays] = await Promise.all([
    profile ? locate(client, profile) : undefined,
    Promise.all(entries.map((e) => locate(client, e))),
    Promise.all(strayMenus.map(async (menu) => (await client.print(menu, { where: { comment: marker } })).map((row) => ({ menu, row })))),
  ]);
  if (profile && profileFound) {
    const o = await ensure(w, profile, profileFound);
    known.setProfile(profile.menu, profile.marker, o.id ? { ...profile.props, '.id': o.id } : undefined);
  }
  // Entries from another connection type go first: they may hold this customer's IP or name.
  const stale = strays.flat();
  await Promise.all(stale.map((s) => w.remove(s.menu, s.row)));
  // every entry settles before a failure is reported, so what was added is known (and taken back)
  const settled = await Promise.allSettled(entries.map((e, i) => ensure(w, e, found[i] as Found)));
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  const outcomes = settled.map((r) => (r as PromiseFulfilledResult<Outcome>).value);
  if (outcomes.every((o) => o.id))
    known.setCustomer(
      marker,
      new Map(
        ALL_CUSTOMER_MENUS.map((m) => [m, null] as [string, RouterRow | null]).concat(entries.map((e, i) => [e.menu, { ...e.props, '.id': outcomes[i]!.id! }])),
      ),
    );

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
  knownOf(client).forgetCustomer(marker);
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
