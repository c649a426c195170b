/**
 * What the agent last saw of a router's managed entries, per router client, so the common case
 * costs one round trip: a new customer's entries are added straight away, and an update writes
 * the difference from the last known state by item id and reads the entry back on the same round.
 *
 * An entry's item id is only trusted on the router session it was learnt on: a reboot (the only
 * time RouterOS hands ids out again) drops the session, so a new session forgets everything, and
 * a write by a known id names its session, which the driver checks as it sends (a session that
 * changed in between refuses the write, and the slow way takes over). A
 * client that cannot tell its sessions apart (no `sessionSerial()`) keeps nothing. Whatever the agent
 * does not know, or finds different on the router, goes the slow way (read, check the marker,
 * diff, write); a reconcile forgets everything, since it may have changed anything.
 */
import type { RouterClient, RouterRow } from '../drivers/types.ts';

/** One customer's entries as last seen: every customer menu the agent read or wrote, present or not. */
export type KnownCustomer = Map<string, RouterRow | null>;

/** The last known managed entries of one router. */
export class KnownEntries {
  private session: number | undefined;
  private readonly customers = new Map<string, KnownCustomer>();
  private readonly profiles = new Map<string, RouterRow>();

  constructor(private readonly client: RouterClient) {}

  /** Forgets everything when the router session changed since the last look. */
  private check(): boolean {
    const now = this.client.sessionSerial?.();
    if (now === undefined || now !== this.session) {
      this.session = now;
      this.customers.clear();
      this.profiles.clear();
    }
    return now !== undefined;
  }

  /** The router session what is known was learnt on (undefined: nothing is known). */
  get serial(): number | undefined {
    return this.session;
  }

  customer(marker: string): KnownCustomer | undefined {
    return this.check() ? this.customers.get(marker) : undefined;
  }

  setCustomer(marker: string, entries: KnownCustomer): void {
    if (this.check()) this.customers.set(marker, entries);
  }

  forgetCustomer(marker: string): void {
    this.customers.delete(marker);
  }

  profile(menu: string, marker: string): RouterRow | undefined {
    return this.check() ? this.profiles.get(`${menu} ${marker}`) : undefined;
  }

  setProfile(menu: string, marker: string, row: RouterRow | undefined): void {
    if (!this.check()) return;
    if (row) this.profiles.set(`${menu} ${marker}`, row);
    else this.profiles.delete(`${menu} ${marker}`);
  }

  clear(): void {
    this.customers.clear();
    this.profiles.clear();
  }
}

const known = new WeakMap<RouterClient, KnownEntries>();

/** The known entries of a router client (created on first use). */
export function knownOf(client: RouterClient): KnownEntries {
  let k = known.get(client);
  if (!k) {
    k = new KnownEntries(client);
    known.set(client, k);
  }
  return k;
}
