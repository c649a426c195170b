import type { ConnectionType } from '@mtandao/protocol';
import type { EntryRow } from '../repositories/adoption.repository.ts';
import type { ImportPlanRow } from '../repositories/imports.repository.ts';

/** What an entry of each adoption menu is. */
export type Kind = 'pppoe' | 'hotspot' | 'static' | 'pppoe-profile' | 'hotspot-profile';

const KIND: Record<string, Kind> = {
  '/ppp/secret': 'pppoe',
  '/ip/hotspot/user': 'hotspot',
  '/queue/simple': 'static',
  '/ppp/profile': 'pppoe-profile',
  '/ip/hotspot/user/profile': 'hotspot-profile',
};

export const adoptionKind = (menu: string): Kind => KIND[menu] ?? 'static';

/**
 * The profile an entry belongs to, by which staff map entries to plans: a secret's or a hotspot
 * user's profile (RouterOS's `default` when unset), a profile's own name, and for a simple queue
 * (no profile on RouterOS) its max-limit.
 */
export function profileOf(menu: string, props: Record<string, string>): string | null {
  const kind = adoptionKind(menu);
  if (kind === 'pppoe' || kind === 'hotspot') return props.profile || 'default';
  if (kind === 'static') return props['max-limit'] ? `queue ${props['max-limit']}` : 'queue without a limit';
  return props.name ?? null;
}

const UNIT: Record<string, number> = { '': 1, k: 1e3, K: 1e3, m: 1e6, M: 1e6, g: 1e9, G: 1e9 };

/** Bits per second of a RouterOS rate ("10M", "512k", "5000000"), or undefined. */
export function parseRate(text: string | undefined): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([kKmMgG]?)$/.exec((text ?? '').trim());
  return m ? Math.round(Number(m[1]) * UNIT[m[2]!]!) : undefined;
}

/** "upload/download" of a rate limit or max-limit (the router's rx/tx: what the customer sends, then receives). */
export function ratePair(text: string | undefined): [number, number] | undefined {
  const [up, down] = (text ?? '').trim().split(/\s+/)[0]!.split('/');
  const u = parseRate(up);
  const d = parseRate(down);
  return u !== undefined && d !== undefined ? [u, d] : undefined;
}

/** The profiles a scan found, each with its users and the plan whose speeds match its rate limit. */
export function suggestPlans(entries: EntryRow[], plans: ImportPlanRow[]) {
  const groups = new Map<string, { name: string; connectionType: ConnectionType; rateLimit: string | null; entryId: string | null; users: number }>();
  const group = (type: ConnectionType, name: string) => {
    const key = `${type} ${name}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { name, connectionType: type, rateLimit: null, entryId: null, users: 0 }));
    return g;
  };
  for (const e of entries) {
    const kind = adoptionKind(e.menu);
    if (kind === 'pppoe-profile' || kind === 'hotspot-profile') {
      const g = group(kind === 'pppoe-profile' ? 'pppoe' : 'hotspot', e.name);
      g.rateLimit = e.props['rate-limit'] ?? null;
      g.entryId = String(e.id);
    } else {
      const g = group(kind, e.profile ?? 'default');
      g.users++;
      if (kind === 'static') g.rateLimit = e.props['max-limit'] ?? null;
    }
  }
  return [...groups.values()].map((g) => {
    const pair = ratePair(g.rateLimit ?? undefined);
    const match = pair
      ? plans.find(
          (p) => !p.archived && p.connection_type === g.connectionType && parseRate(p.upload_speed) === pair[0] && parseRate(p.download_speed) === pair[1],
        )
      : undefined;
    return { ...g, suggestedPlanId: match?.id ?? null, suggestedPlanName: match?.name ?? null };
  });
}
