/**
 * Hotspot operations beyond one customer: vouchers (many hotspot users of one plan, written
 * pipelined), the portal's walled-garden entries, and the status read (who is online, what each
 * voucher used) — two prints sent together, one round trip per router.
 */
import {
  HOTSPOT_REPORT_MAX,
  PORTAL_MARKER,
  VOUCHER_MARKER_PREFIX,
  voucherMarker,
  type ApplyResult,
  type HotspotRouterReport,
  type HotspotSession,
  type HotspotUserUse,
  type VouchersApplyPayload,
} from '@mtandao/protocol';
import { RouterError, type RouterClient, type RouterRow } from '../drivers/types.ts';
import { formatDuration, parseDuration } from '../drivers/values.ts';
import { applyPlan } from './apply.ts';
import { difference, MENU } from './model.ts';
import { isAlreadyExists, Writer } from './writer.ts';

const WALLED_GARDEN = '/ip/hotspot/walled-garden';
const num = (v: string | undefined): number => Math.max(0, Math.floor(Number(v ?? 0) || 0));
const secs = (v: string | undefined): number => (v ? (parseDuration(v) ?? 0) : 0);

/**
 * Puts a plan's vouchers on the router and takes used-up ones off. Adds go out all at once; one the
 * router already has (a redelivery) is looked up and only corrected when it is this voucher's, and
 * a namesake Mtandao does not manage fails the command naming it.
 */
export async function applyVouchers(client: RouterClient, p: VouchersApplyPayload): Promise<ApplyResult> {
  const w = new Writer(client);
  const profileLines = p.add.length > 0 ? (await applyPlan(client, p.plan)).changes : [];
  const want = (v: VouchersApplyPayload['add'][number]): Record<string, string> => ({
    name: v.code,
    password: v.code,
    profile: p.plan.name,
    ...(v.limitUptimeSeconds ? { 'limit-uptime': formatDuration(v.limitUptimeSeconds) } : {}),
    'limit-bytes-total': String(p.plan.dataLimitBytes ?? 0),
    comment: voucherMarker(v.voucherId),
  });
  await Promise.all([
    ...p.add.map(async (v) => {
      const props = want(v);
      try {
        await w.add(MENU.hotspotUser, props);
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
        const [row] = await client.print(MENU.hotspotUser, { where: { name: v.code } });
        if (!row) throw e;
        if (row.comment !== props.comment)
          throw new RouterError('conflict', `${MENU.hotspotUser} ${v.code} exists on the router but is not managed by Mtandao`, { retryable: false });
        const diff = difference(props, row);
        if (Object.keys(diff).length > 0) await w.set(MENU.hotspotUser, row, diff);
        else w.summary.unchanged++;
      }
    }),
    ...p.remove.map(async (v) => {
      const [rows, sessions] = await Promise.all([
        client.print(MENU.hotspotUser, { where: { comment: voucherMarker(v.voucherId) } }),
        client.print(MENU.hotspotActive, { where: { user: v.code } }),
      ]);
      await Promise.all([...rows.map((r) => w.remove(MENU.hotspotUser, r)), ...sessions.map((s) => w.remove(MENU.hotspotActive, s, 'kick'))]);
    }),
  ]);
  // a voucher's name is its password: the change lines count them instead of naming them
  const { created, updated, removed, kicked, unchanged } = w.summary;
  const changes = [
    ...profileLines,
    ...(created ? [`add ${created} voucher users to ${MENU.hotspotUser}`] : []),
    ...(updated ? [`correct ${updated} voucher users`] : []),
    ...(removed ? [`remove ${removed} voucher users`] : []),
    ...(kicked ? [`drop ${kicked} sessions of removed vouchers`] : []),
  ];
  return { changes, summary: { created, updated, removed, kicked, unchanged } };
}

/** Keeps exactly the portal's hosts among the walled-garden entries marked as Mtandao's. */
export async function setupHotspot(client: RouterClient, portalHosts: readonly string[]): Promise<ApplyResult> {
  const w = new Writer(client);
  const rows = await client.print(WALLED_GARDEN, { where: { comment: PORTAL_MARKER } });
  const have = new Map<string, RouterRow>();
  for (const r of rows) {
    const host = r['dst-host'] ?? '';
    if (!portalHosts.includes(host) || have.has(host)) await w.remove(WALLED_GARDEN, r);
    else have.set(host, r);
  }
  await Promise.all(portalHosts.filter((h) => !have.has(h)).map((h) => w.add(WALLED_GARDEN, { 'dst-host': h, action: 'allow', comment: PORTAL_MARKER })));
  return w.result();
}

/**
 * Reads the hotspot in one round trip: every active session, and the counters of managed users
 * that have been used. Large routers come back in parts of at most HOTSPOT_REPORT_MAX of each.
 */
export async function readHotspot(client: RouterClient): Promise<HotspotRouterReport[]> {
  const [active, users] = await Promise.all([
    client.print(MENU.hotspotActive, { proplist: ['user', 'address', 'mac-address', 'uptime', 'bytes-in', 'bytes-out'] }),
    client.print(MENU.hotspotUser, { proplist: ['name', 'comment', 'uptime', 'bytes-in', 'bytes-out'] }),
  ]);
  const readAt = new Date().toISOString();
  const sessions: HotspotSession[] = active.map((r) => ({
    user: (r.user ?? '').slice(0, 64),
    address: (r.address ?? '').slice(0, 45),
    macAddress: (r['mac-address'] ?? '').slice(0, 17),
    uptimeSeconds: secs(r.uptime),
    bytesIn: num(r['bytes-in']),
    bytesOut: num(r['bytes-out']),
  }));
  const used: HotspotUserUse[] = users
    .filter((r) => (r.comment ?? '').startsWith('mtandao') && (secs(r.uptime) > 0 || num(r['bytes-in']) + num(r['bytes-out']) > 0))
    .map((r) => ({
      name: (r.name ?? '').slice(0, 64),
      comment: (r.comment ?? '').slice(0, 80),
      uptimeSeconds: secs(r.uptime),
      bytesIn: num(r['bytes-in']),
      bytesOut: num(r['bytes-out']),
    }));
  const vouchersOnRouter = users.filter((r) => isVoucher(r.comment)).length;
  const parts = Math.max(1, Math.ceil(Math.max(sessions.length, used.length) / HOTSPOT_REPORT_MAX));
  return Array.from({ length: parts }, (_, part) => ({
    name: client.name,
    part,
    parts,
    active: sessions.slice(part * HOTSPOT_REPORT_MAX, (part + 1) * HOTSPOT_REPORT_MAX),
    users: used.slice(part * HOTSPOT_REPORT_MAX, (part + 1) * HOTSPOT_REPORT_MAX),
    ...(part === 0 ? { vouchersOnRouter } : {}),
    readAt,
  }));
}

/** Whether a comment marks a voucher's user. */
export const isVoucher = (comment: string | undefined): boolean => (comment ?? '').startsWith(VOUCHER_MARKER_PREFIX);
