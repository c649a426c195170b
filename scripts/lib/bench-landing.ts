// What the hot-path benches share: knowing when each PPPoE secret lands on the emulated router (the
// site process reports every change with the time it happened), and a stream of customers to add.
import type { ChildProcess } from 'node:child_process';

/** A change on an emulated router, as the bench site process reports it (scripts/bench-site.ts). */
export interface SiteChange {
  path: string;
  name: string;
  comment?: string | undefined;
  rate?: string | undefined;
  disabled?: string | undefined;
  /** When it happened (epoch ms). */
  at: number;
}

/** Calls `fn` for every change the site process reports (it sends them batched, in order). */
export function onSiteChange(site: ChildProcess, fn: (change: SiteChange) => void): void {
  site.on('message', (m: { t: string; changes?: SiteChange[] }) => {
    if (m.t === 'changes') for (const c of m.changes!) fn(c);
  });
}

/** Secrets as they land on the router: when each did, and a promise for one still to come. */
export function watchSecrets(site: ChildProcess): { landed: Map<string, number>; landing: (name: string) => Promise<void> } {
  const landed = new Map<string, number>();
  const waiting = new Map<string, () => void>();
  onSiteChange(site, (m) => {
    if (m.path !== '/ppp/secret') return;
    landed.set(m.name, m.at);
    waiting.get(m.name)?.();
  });
  const landing = (name: string) => new Promise<void>((resolve) => (landed.has(name) ? resolve() : waiting.set(name, resolve)));
  return { landed, landing };
}

/** `POST /customers` bodies for PPPoE customers on a plan, each with the next address of 100.64.0.0/10. */
export function pppoeCustomers(planId: unknown, networkId: unknown): (username: string) => Record<string, unknown> {
  let ipCounter = 1 << 8;
  const nextIp = () => {
    const n = ipCounter++;
    return `100.${64 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
  };
  return (username) => ({
    connectionType: 'pppoe',
    planId,
    networkId,
    ipAddress: nextIp(),
    fullName: 'Bench Customer',
    phone: '0712345678',
    username,
    payment: { method: 'cash' },
    autoActivate: true,
  });
}
