/**
 * What lands on a router for a plan or a customer (SPEC section 7), as plain data: the menu, the
 * properties Mtandao manages, and the comment marker that makes the entry Mtandao's. Everything
 * else about an entry is left as the router has it.
 */
import {
  ACTIVE_ADDRESS_LIST,
  BLOCKED_ADDRESS_LIST,
  customerMarker,
  planMarker,
  type ConnectionType,
  type CustomerRef,
  type CustomerSpec,
  type PlanSpec,
} from '@mtandao/protocol';
import { RouterError, type RouterRow } from '../drivers/types.ts';
import { canonicalValue, type ValueKind } from '../drivers/values.ts';

/** The menus Mtandao writes to. */
export const MENU = {
  pppProfile: '/ppp/profile',
  pppSecret: '/ppp/secret',
  pppActive: '/ppp/active',
  hotspotProfile: '/ip/hotspot/user/profile',
  hotspotUser: '/ip/hotspot/user',
  hotspotActive: '/ip/hotspot/active',
  queue: '/queue/simple',
  addressList: '/ip/firewall/address-list',
} as const;

/** Plan profile menu per connection type (static plans have none). */
export const PROFILE_MENU: Readonly<Record<ConnectionType, string | undefined>> = { pppoe: MENU.pppProfile, hotspot: MENU.hotspotProfile, static: undefined };

/** Customer entry menus per connection type. */
export const CUSTOMER_MENUS: Readonly<Record<ConnectionType, readonly string[]>> = {
  pppoe: [MENU.pppSecret],
  hotspot: [MENU.hotspotUser],
  static: [MENU.queue, MENU.addressList],
};

/** Every menu that can hold a customer entry. */
export const ALL_CUSTOMER_MENUS: readonly string[] = [MENU.pppSecret, MENU.hotspotUser, MENU.queue, MENU.addressList];
/** Every menu that can hold a plan profile. */
export const ALL_PROFILE_MENUS: readonly string[] = [MENU.pppProfile, MENU.hotspotProfile];

/** Where a customer's live sessions are, and the property that names the user. */
export const SESSIONS: Readonly<Record<ConnectionType, { menu: string; user: string } | undefined>> = {
  pppoe: { menu: MENU.pppActive, user: 'name' },
  hotspot: { menu: MENU.hotspotActive, user: 'user' },
  static: undefined,
};

/** Changing any of these on a live customer drops the session, so the new values take effect. */
export const SESSION_FIELDS: ReadonlySet<string> = new Set(['name', 'password', 'profile', 'remote-address', 'disabled']);

/** Prefix of every customer marker (`mtandao:`) and every plan marker (`mtandao-plan:`). */
export const CUSTOMER_MARKER_PREFIX = customerMarker('');
export const PLAN_MARKER_PREFIX = planMarker('');

/** An entry as Mtandao wants it. */
export interface DesiredEntry {
  menu: string;
  marker: string;
  /** The property RouterOS keeps unique, used to find an entry that lost its marker. */
  key: 'name' | 'address';
  /** Managed properties, comment (the marker) included. */
  props: Record<string, string>;
}

const KINDS: Readonly<Record<string, ValueKind>> = {
  'rate-limit': 'rate-limit',
  'max-limit': 'rate-pair',
  target: 'prefix',
  disabled: 'bool',
  'limit-bytes-total': 'integer',
  'shared-users': 'integer',
  address: 'address',
  'local-address': 'address',
  'remote-address': 'address',
};

/** `upload/download` from the router's side: its rx is what the customer uploads. */
const rate = (plan: PlanSpec): string => `${plan.uploadSpeed}/${plan.downloadSpeed}`;

/** The profile a plan needs, or undefined for static plans. */
export function profileEntry(plan: PlanSpec): DesiredEntry | undefined {
  const marker = planMarker(plan.planId);
  const base = { name: plan.name, 'rate-limit': rate(plan), comment: marker };
  if (plan.connectionType === 'pppoe') {
    return { menu: MENU.pppProfile, marker, key: 'name', props: { ...base, ...(plan.localAddress ? { 'local-address': plan.localAddress } : {}) } };
  }
  if (plan.connectionType === 'hotspot') {
    return { menu: MENU.hotspotProfile, marker, key: 'name', props: { ...base, ...(plan.sharedUsers ? { 'shared-users': String(plan.sharedUsers) } : {}) } };
  }
  return undefined;
}

/** The entries a customer needs, in dependency order. */
export function customerEntries(c: CustomerSpec): DesiredEntry[] {
  const marker = customerMarker(c.customerId);
  const active = c.status === 'active';
  switch (c.connectionType) {
    case 'pppoe':
      return [
        {
          menu: MENU.pppSecret,
          marker,
          key: 'name',
          props: {
            name: c.username,
            password: c.password,
            service: 'pppoe',
            profile: c.plan.name,
            ...(c.ipAddress ? { 'remote-address': c.ipAddress } : {}),
            disabled: String(!active),
            comment: marker,
          },
        },
      ];
    case 'hotspot':
      return [
        {
          menu: MENU.hotspotUser,
          marker,
          key: 'name',
          props: {
            name: c.username,
            password: c.password,
            profile: c.plan.name,
            // 0 is "no limit" on RouterOS, and what an unset limit compares as.
            'limit-bytes-total': String(c.plan.dataLimitBytes ?? 0),
            disabled: String(!active),
            comment: marker,
          },
        },
      ];
    case 'static': {
      if (!c.ipAddress) throw new RouterError('invalid', `static customer ${c.customerId} has no IP address`, { retryable: false });
      return [
        { menu: MENU.queue, marker, key: 'name', props: { name: c.username, target: `${c.ipAddress}/32`, 'max-limit': rate(c.plan), comment: marker } },
        {
          menu: MENU.addressList,
          marker,
          key: 'address',
          props: { list: active ? ACTIVE_ADDRESS_LIST : BLOCKED_ADDRESS_LIST, address: c.ipAddress, comment: marker },
        },
      ];
    }
  }
}

/** The properties of `want` that `have` does not already hold, compared by meaning. */
export function difference(want: Readonly<Record<string, string>>, have: RouterRow): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in want) {
    const v = want[k]!;
    const h = have[k];
    if (h === v) continue; // the usual case, and the cheap one
    const kind = KINDS[k] ?? 'text';
    if (canonicalValue(kind, h) !== canonicalValue(kind, v)) out[k] = v;
  }
  return out;
}

/** The properties a print must return for diffing entries of a menu. */
export function managedProps(menu: string): string[] {
  switch (menu) {
    case MENU.pppProfile:
      return ['name', 'rate-limit', 'local-address', 'comment'];
    case MENU.hotspotProfile:
      return ['name', 'rate-limit', 'shared-users', 'comment'];
    case MENU.pppSecret:
      return ['name', 'password', 'service', 'profile', 'remote-address', 'disabled', 'comment'];
    case MENU.hotspotUser:
      return ['name', 'password', 'profile', 'limit-bytes-total', 'disabled', 'comment'];
    case MENU.queue:
      return ['name', 'target', 'max-limit', 'comment'];
    default:
      return ['list', 'address', 'disabled', 'comment'];
  }
}

/** How an entry is named in a change line: its name, or list and address. */
export function label(menu: string, row: Readonly<Record<string, string | undefined>>): string {
  return menu === MENU.addressList ? `${row.list ?? ''} ${row.address ?? ''}` : (row.name ?? row['.id'] ?? '');
}

/** Whether a row is one Mtandao manages. */
export const isManaged = (row: RouterRow): boolean => {
  const c = row.comment ?? '';
  return c.startsWith(CUSTOMER_MARKER_PREFIX) || c.startsWith(PLAN_MARKER_PREFIX);
};

/** The customer a ref points at, as the marker its entries carry. */
export const refMarker = (ref: CustomerRef): string => customerMarker(ref.customerId);
