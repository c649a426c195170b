import type { RouterTransport } from '@mtandao/protocol';

/** One router as the site's config file lists it. Credentials never leave the site. */
export interface RouterConfig {
  name: string;
  host: string;
  port: number;
  transport: RouterTransport;
  username: string;
  password: string;
  /** api-ssl: verify the router's certificate (off by default: RouterOS ships self-signed ones). */
  tlsRejectUnauthorized?: boolean;
  /** Per-command timeout. */
  timeoutMs?: number;
  /** ssh: the router's host key fingerprint as OpenSSH prints it (`SHA256:…`); when set, any other key is refused. */
  sshHostKey?: string;
}

/** What a health probe reads from a router. */
export interface RouterHealthInfo {
  version: string;
  identity: string;
  /** Seconds since the router booted: going backwards means it restarted (perhaps empty). */
  uptimeSeconds?: number;
  /** Entries per customer menu, managed or not (see {@link RouterClient.countEntries}). */
  entries?: Partial<Record<string, number>>;
}

/** A row as RouterOS prints it: every value a string, the id under `.id`. */
export type RouterRow = Record<string, string>;

/** Options of a print. */
export interface PrintOptions {
  /** Exact-match filters (`?name=value` in the API, `where name="value"` in the CLI). */
  where?: Record<string, string>;
  /** Only these properties (`.proplist`). */
  proplist?: string[];
}

/** Conditions of a write. */
export interface WriteOptions {
  /** The {@link RouterClient.sessionSerial} the item id was learnt on: on any other session the write is refused (`unreachable`, retryable) and nothing is sent. */
  session?: number;
}

/** The refusal of a write whose item id belongs to an earlier router session. */
export const sessionChanged = (): RouterError =>
  new RouterError('unreachable', 'the router session changed since the item id was read; not written', { retryable: true });

/**
 * The transport-neutral operations every driver offers. The desired-state logic in
 * `reconcile/` is written once on top of this, so the API and SSH paths land the same state.
 * Menus are written as in the API: `/ppp/secret`, `/ip/hotspot/user/profile`.
 */
export interface RouterClient {
  readonly name: string;
  print(menu: string, options?: PrintOptions): Promise<RouterRow[]>;
  /** Adds an entry and returns its id (`=ret=` in the API). */
  add(menu: string, props: Record<string, string>): Promise<string>;
  /** `options.session`: write only on that router session (an item id is only good on the session it was read on). */
  set(menu: string, id: string, props: Record<string, string>, options?: WriteOptions): Promise<void>;
  remove(menu: string, id: string): Promise<void>;
  /** RouterOS version, identity and uptime. */
  health(): Promise<RouterHealthInfo>;
  /**
   * How many entries each menu holds (`print count-only`: one number per menu, no entry is read).
   * A menu the router cannot count (no such menu, a refusal) is left out; a lost connection rejects.
   */
  countEntries?(menus: readonly string[]): Promise<Partial<Record<string, number>>>;
  /**
   * Which session with the router is live: a number that changes whenever the driver opens a new
   * one (a router reboot ends every session), undefined while there is none. Item ids learnt on
   * one session are only trusted on it. Optional: without it the agent keeps no ids between commands.
   */
  sessionSerial?(): number | undefined;
  close(): Promise<void>;
}

/** What went wrong talking to a router. */
export type RouterErrorCategory =
  /** could not connect, connection lost, timed out: worth retrying */
  | 'unreachable'
  /** the router refused our login */
  | 'login'
  /** the router answered `!trap` to a command: its text is in `routerMessage` */
  | 'trap'
  /** `!fatal`, or a reply the driver could not understand */
  | 'protocol'
  /** the driver refused a value before sending it (no Windows-1252 form, a control character in a name…) */
  | 'invalid'
  /** an entry Mtandao wants to write is held by one it does not manage (or another customer's) */
  | 'conflict';

/** An error from a router, carrying the router's own text for NOC. */
export class RouterError extends Error {
  readonly category: RouterErrorCategory;
  /** The router's own words, verbatim (`failure: secret with the same name already exists`). */
  readonly routerMessage: string | undefined;
  readonly retryable: boolean;
  /** The API's `=category=` of a `!trap` (0 missing item or command … 7 `:return`), when the router sent one. */
  readonly trapCategory: number | undefined;
  constructor(
    category: RouterErrorCategory,
    message: string,
    options: { routerMessage?: string; retryable?: boolean; cause?: unknown; trapCategory?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'RouterError';
    this.category = category;
    this.routerMessage = options.routerMessage;
    this.retryable = options.retryable ?? category === 'unreachable';
    this.trapCategory = options.trapCategory;
  }
}

/** SPEC section 7: a same-name entry without Mtandao's marker is never taken over. */
export const unmanagedEntry = (menu: string, name: string): RouterError =>
  new RouterError('conflict', `${menu} ${name} exists on the router but is not managed by Mtandao`, { retryable: false });
