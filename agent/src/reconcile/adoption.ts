/**
 * Import from router (SPEC section 13): read the entries Mtandao does not manage, and later mark
 * the ones staff adopted. Marking sets the comment and nothing else: the password, profile,
 * addresses and every other property stay exactly as the router holds them.
 */
import { ADOPTION_MENUS, type ApplyResult, type FoundEntry, type RouterAdoptMarkPayload } from '@mtandao/protocol';
import { RouterError, type RouterClient, type RouterRow } from '../drivers/types.ts';
import { isManaged } from './model.ts';

/** A page's entries stop growing here, well inside the controller's frame limit (long comments, many properties). */
const PAGE_BYTES = 160 * 1024;
const clip = (text: string, max: number): string => (text.length > max ? text.slice(0, max) : text);

/**
 * One page of the router's unmarked entries in the adoption menus, in menu order then id order:
 * at most `limit` entries and about {@link PAGE_BYTES} of them (the controller asks on from
 * `offset + found.length`).
 */
export async function adoptionScan(client: RouterClient, page: { offset?: number; limit?: number } = {}): Promise<ApplyResult> {
  const offset = page.offset ?? 0;
  const limit = page.limit ?? 300;
  // every menu read at once: one round trip however many entries the router has
  const printed = await Promise.all(ADOPTION_MENUS.map((m) => client.print(m)));
  const found: FoundEntry[] = ADOPTION_MENUS.flatMap((menu, i) =>
    (printed[i] ?? [])
      .filter((row) => !isManaged(row) && row['.id'] && row.name)
      .map((row) => {
        const { '.id': id = '', ...rest } = row;
        const props = Object.fromEntries(Object.entries(rest).map(([k, v]) => [clip(k, 64), clip(v, 1000)]));
        return { menu, id, name: clip(row.name!, 200), props };
      }),
  );
  const out: FoundEntry[] = [];
  let bytes = 0;
  for (const entry of found.slice(offset, offset + limit)) {
    bytes += JSON.stringify(entry).length;
    if (out.length > 0 && bytes > PAGE_BYTES) break;
    out.push(entry);
  }
  return { changes: [], found: out, total: found.length };
}

/**
 * Sets each entry's comment to its marker, after checking it is still the entry that was scanned
 * (same id, same name) and carries no other marker. Already marked as asked: nothing to do. Every
 * other entry is marked even when one fails; the failures are then thrown together.
 */
export async function adoptMark(client: RouterClient, payload: Pick<RouterAdoptMarkPayload, 'marks'>): Promise<ApplyResult> {
  const menus = [...new Set(payload.marks.map((m) => m.menu))];
  const printed = await Promise.all(menus.map((m) => client.print(m, { proplist: ['.id', 'name', 'comment'] })));
  const byId = new Map<string, RouterRow>();
  menus.forEach((menu, i) => {
    for (const row of printed[i] ?? []) byId.set(`${menu} ${row['.id']}`, row);
  });
  const changes: string[] = [];
  const failures: string[] = [];
  const summary = { marked: 0, unchanged: 0, failed: 0 };
  await Promise.all(
    payload.marks.map(async (m) => {
      const row = byId.get(`${m.menu} ${m.id}`);
      const fail = (why: string) => {
        summary.failed++;
        failures.push(`${m.menu} ${m.name}: ${why}`);
      };
      if (!row || row.name !== m.name) return fail('no longer on the router as scanned (removed or renamed); scan again');
      if (row.comment === m.marker) {
        summary.unchanged++;
        return;
      }
      if (isManaged(row)) return fail(`already managed by Mtandao (${row.comment})`);
      try {
        await client.set(m.menu, m.id, { comment: m.marker });
        summary.marked++;
        changes.push(`marked ${m.menu} ${m.name} as ${m.marker}`);
      } catch (e) {
        fail(e instanceof RouterError && e.routerMessage ? e.routerMessage : e instanceof Error ? e.message : String(e));
      }
    }),
  );
  if (failures.length > 0) {
    throw new RouterError('conflict', `${failures.length} of ${payload.marks.length} entries not marked; first: ${failures[0]}`, { retryable: false });
  }
  return { changes, summary };
}
