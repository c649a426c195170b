/**
 * The menus the emulator knows, described once for the API and the CLI: each property's type (how
 * RouterOS parses and reads it back), its default, and the menu's own rules and error texts.
 * Property order is print order.
 */

/** How a property is parsed on input and read back. */
export type FieldType =
  | { kind: 'string' }
  | { kind: 'bool' }
  | { kind: 'int'; min: number; max: number }
  | { kind: 'bytes' }
  | { kind: 'ip' }
  | { kind: 'ip-or-pool' }
  | { kind: 'prefix-list' }
  | { kind: 'address' }
  | { kind: 'rate-pair' }
  | { kind: 'rate-limit' }
  | { kind: 'duration'; none?: boolean }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'ref'; menu: string };

/** One property of a menu. */
export interface FieldSpec {
  type: FieldType;
  /** What print shows when the property was never set (absent: not shown). */
  default?: string;
  /** Shown, never written (counters, uptime). */
  readOnly?: boolean;
}

/** A uniqueness rule and RouterOS's own complaint when it is broken. */
export interface UniqueRule {
  fields: readonly string[];
  message: string;
}

/** A menu of the emulated router. */
export interface MenuSpec {
  /** API form: `/ppp/secret`. */
  path: string;
  fields: Readonly<Record<string, FieldSpec>>;
  unique: readonly UniqueRule[];
  /** Properties `add` insists on, with the complaint. */
  required: readonly { field: string; message: string }[];
  /** Verbs beyond print/listen. */
  verbs: ReadonlySet<Verb>;
  /** First id handed out (`*1`, or `*80000001` for sessions). */
  firstId: number;
  /** Entries present from the start, never removable. */
  builtins?: readonly { id: number; props: Readonly<Record<string, string>> }[];
  builtinRemoveMessage?: string;
  /** `queue` gives `queue1`, `queue2`… when add has no name. */
  autoName?: string;
  /** A settings menu with one unnamed item and no ids (`/system/identity`). */
  singleton?: boolean;
}

/** A write verb. */
export type Verb = 'add' | 'set' | 'remove' | 'enable' | 'disable' | 'unset';

const str = (d?: string): FieldSpec => ({ type: { kind: 'string' }, ...(d === undefined ? {} : { default: d }) });
const bool = (d = 'false'): FieldSpec => ({ type: { kind: 'bool' }, default: d });
const ro = (d: string, kind: FieldType['kind'] = 'string'): FieldSpec => ({ type: { kind } as FieldType, default: d, readOnly: true });
const dur = (d?: string, none = false): FieldSpec => ({ type: { kind: 'duration', none }, ...(d === undefined ? {} : { default: d }) });
const ALL_WRITES: ReadonlySet<Verb> = new Set(['add', 'set', 'remove', 'enable', 'disable', 'unset']);
const SESSIONS: ReadonlySet<Verb> = new Set(['remove']);
const TRI = { type: { kind: 'enum', values: ['default', 'yes', 'no'] } as FieldType, default: 'default' };

const PPP_PROFILE: MenuSpec = {
  path: '/ppp/profile',
  fields: {
    name: str(),
    'local-address': { type: { kind: 'ip-or-pool' } },
    'remote-address': { type: { kind: 'ip-or-pool' } },
    bridge: str(),
    'rate-limit': { type: { kind: 'rate-limit' } },
    'only-one': TRI,
    'change-tcp-mss': TRI,
    'use-compression': TRI,
    'use-encryption': TRI,
    'use-mpls': TRI,
    'use-upnp': TRI,
    'address-list': str(''),
    'dns-server': str(),
    'on-up': str(''),
    'on-down': str(''),
    default: ro('false', 'bool'),
    comment: str(),
  },
  unique: [{ fields: ['name'], message: 'failure: profile with the same name already exists' }],
  required: [{ field: 'name', message: 'failure: profile name not specified' }],
  verbs: new Set(['add', 'set', 'remove', 'unset']),
  firstId: 1,
  builtins: [
    { id: 0, props: { name: 'default', default: 'true' } },
    { id: 0xfffffffe, props: { name: 'default-encryption', 'use-encryption': 'yes', default: 'true' } },
  ],
  builtinRemoveMessage: 'failure: can not remove default profile',
};

const PPP_SECRET: MenuSpec = {
  path: '/ppp/secret',
  fields: {
    name: str(),
    service: { type: { kind: 'enum', values: ['any', 'async', 'l2tp', 'ovpn', 'pppoe', 'pptp', 'sstp'] }, default: 'any' },
    'caller-id': str(''),
    password: str(''),
    profile: { type: { kind: 'ref', menu: '/ppp/profile' }, default: 'default' },
    'local-address': { type: { kind: 'ip' } },
    'remote-address': { type: { kind: 'ip' } },
    routes: str(''),
    'ipv6-routes': str(''),
    'limit-bytes-in': { type: { kind: 'bytes' }, default: '0' },
    'limit-bytes-out': { type: { kind: 'bytes' }, default: '0' },
    'last-logged-out': ro('never'),
    disabled: bool(),
    comment: str(),
  },
  unique: [{ fields: ['name'], message: 'failure: secret with the same name already exists' }],
  required: [{ field: 'name', message: 'failure: secret name not specified' }],
  verbs: ALL_WRITES,
  firstId: 1,
};

const PPP_ACTIVE: MenuSpec = {
  path: '/ppp/active',
  fields: {
    name: str(),
    service: str('pppoe'),
    'caller-id': str(''),
    encoding: str(''),
    address: { type: { kind: 'ip' } },
    uptime: ro('0s'),
    'session-id': str(),
    'limit-bytes-in': ro('0'),
    'limit-bytes-out': ro('0'),
    radius: bool(),
  },
  unique: [],
  required: [],
  verbs: SESSIONS,
  firstId: 0x80000001,
};

const HOTSPOT_PROFILE: MenuSpec = {
  path: '/ip/hotspot/user/profile',
  fields: {
    name: str(),
    'address-pool': str('none'),
    'idle-timeout': dur('none', true),
    'keepalive-timeout': dur('2m', true),
    'status-autorefresh': dur('1m'),
    'shared-users': { type: { kind: 'int', min: 1, max: 1000 }, default: '1' },
    'rate-limit': { type: { kind: 'rate-limit' } },
    'session-timeout': dur(),
    'add-mac-cookie': bool('true'),
    'mac-cookie-timeout': dur('3d'),
    'transparent-proxy': bool(),
    default: ro('false', 'bool'),
    comment: str(),
  },
  unique: [{ fields: ['name'], message: 'failure: profile with the same name already exists' }],
  required: [{ field: 'name', message: 'failure: profile name not specified' }],
  verbs: new Set(['add', 'set', 'remove', 'unset']),
  firstId: 1,
  builtins: [{ id: 0, props: { name: 'default', default: 'true' } }],
  builtinRemoveMessage: 'failure: can not remove default profile',
};

const HOTSPOT_USER: MenuSpec = {
  path: '/ip/hotspot/user',
  fields: {
    server: str('all'),
    name: str(),
    password: str(''),
    address: { type: { kind: 'ip' } },
    'mac-address': str(),
    profile: { type: { kind: 'ref', menu: '/ip/hotspot/user/profile' }, default: 'default' },
    routes: str(),
    email: str(),
    'limit-uptime': dur(),
    'limit-bytes-in': { type: { kind: 'bytes' } },
    'limit-bytes-out': { type: { kind: 'bytes' } },
    'limit-bytes-total': { type: { kind: 'bytes' } },
    uptime: ro('0s'),
    'bytes-in': ro('0', 'int'),
    'bytes-out': ro('0', 'int'),
    'packets-in': ro('0', 'int'),
    'packets-out': ro('0', 'int'),
    dynamic: ro('false', 'bool'),
    disabled: bool(),
    comment: str(),
  },
  unique: [{ fields: ['server', 'name'], message: 'failure: already have user with this name for this server' }],
  required: [{ field: 'name', message: 'failure: user name not specified' }],
  verbs: ALL_WRITES,
  firstId: 1,
};

const HOTSPOT_ACTIVE: MenuSpec = {
  path: '/ip/hotspot/active',
  fields: {
    server: str('hotspot1'),
    user: str(),
    domain: str(''),
    address: { type: { kind: 'ip' } },
    'mac-address': str(),
    'login-by': str('http-chap'),
    uptime: ro('0s'),
    'idle-time': ro('0s'),
    'bytes-in': ro('0', 'int'),
    'bytes-out': ro('0', 'int'),
    'packets-in': ro('0', 'int'),
    'packets-out': ro('0', 'int'),
    radius: bool(),
    blocked: bool(),
  },
  unique: [],
  required: [],
  verbs: SESSIONS,
  firstId: 0x80000001,
};

const WALLED_GARDEN: MenuSpec = {
  path: '/ip/hotspot/walled-garden',
  fields: {
    action: { type: { kind: 'enum', values: ['allow', 'deny'] }, default: 'allow' },
    server: str(),
    'src-address': str(),
    'dst-host': str(''),
    'dst-port': str(''),
    path: str(''),
    method: str(),
    hits: ro('0', 'int'),
    dynamic: ro('false', 'bool'),
    disabled: bool(),
    comment: str(),
  },
  unique: [],
  required: [],
  verbs: ALL_WRITES,
  firstId: 1,
};

const QUEUE_SIMPLE: MenuSpec = {
  path: '/queue/simple',
  fields: {
    name: str(),
    target: { type: { kind: 'prefix-list' } },
    parent: str('none'),
    'packet-marks': str(''),
    priority: str('8/8'),
    queue: str('default-small/default-small'),
    'limit-at': { type: { kind: 'rate-pair' }, default: '0/0' },
    'max-limit': { type: { kind: 'rate-pair' }, default: '0/0' },
    'burst-limit': { type: { kind: 'rate-pair' }, default: '0/0' },
    'burst-threshold': { type: { kind: 'rate-pair' }, default: '0/0' },
    'burst-time': str('0s/0s'),
    'bucket-size': str('0.1/0.1'),
    invalid: ro('false', 'bool'),
    dynamic: ro('false', 'bool'),
    disabled: bool(),
    comment: str(),
  },
  unique: [{ fields: ['name'], message: 'failure: already have such name' }],
  required: [{ field: 'target', message: 'failure: target not specified' }],
  verbs: ALL_WRITES,
  firstId: 1,
  autoName: 'queue',
};

const ADDRESS_LIST: MenuSpec = {
  path: '/ip/firewall/address-list',
  fields: {
    list: str(),
    address: { type: { kind: 'address' } },
    'creation-time': ro(''),
    timeout: dur(),
    dynamic: ro('false', 'bool'),
    disabled: bool(),
    comment: str(),
  },
  unique: [{ fields: ['list', 'address'], message: 'failure: already have such entry' }],
  required: [
    { field: 'list', message: 'failure: list not specified' },
    { field: 'address', message: 'failure: address not specified' },
  ],
  verbs: ALL_WRITES,
  firstId: 1,
};

const IDENTITY: MenuSpec = {
  path: '/system/identity',
  fields: { name: str('MikroTik') },
  unique: [],
  required: [],
  verbs: new Set(['set']),
  firstId: 1,
  singleton: true,
};

const RESOURCE: MenuSpec = {
  path: '/system/resource',
  fields: Object.fromEntries(
    [
      'uptime',
      'version',
      'build-time',
      'factory-software',
      'free-memory',
      'total-memory',
      'cpu',
      'cpu-count',
      'cpu-frequency',
      'cpu-load',
      'free-hdd-space',
      'total-hdd-space',
      'architecture-name',
      'board-name',
      'platform',
    ].map((f) => [f, ro('')]),
  ),
  unique: [],
  required: [],
  verbs: new Set(),
  firstId: 1,
  singleton: true,
};

const CLOCK: MenuSpec = {
  path: '/system/clock',
  fields: Object.fromEntries(['time', 'date', 'time-zone-autodetect', 'time-zone-name', 'gmt-offset', 'dst-active'].map((f) => [f, ro('')])),
  unique: [],
  required: [],
  verbs: new Set(),
  firstId: 1,
  singleton: true,
};

/** Every menu, keyed by API path. */
export const MENUS: ReadonlyMap<string, MenuSpec> = new Map(
  [
    PPP_PROFILE,
    PPP_SECRET,
    PPP_ACTIVE,
    HOTSPOT_PROFILE,
    HOTSPOT_USER,
    HOTSPOT_ACTIVE,
    WALLED_GARDEN,
    QUEUE_SIMPLE,
    ADDRESS_LIST,
    IDENTITY,
    RESOURCE,
    CLOCK,
  ].map((m) => [m.path, m]),
);

/** Whether a path is a menu or leads to one (`/ip`, `/ip/hotspot`). */
export function isMenuPrefix(path: string): boolean {
  if (path === '') return true;
  for (const p of MENUS.keys()) if (p === path || p.startsWith(`${path}/`)) return true;
  return false;
}
