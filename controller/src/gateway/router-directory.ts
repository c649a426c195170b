import type { OutboxRepository } from '../repositories/outbox.repository.ts';
import type { RoutersRepository } from '../repositories/routers.repository.ts';

/** Router ids → their site (which agent serves them) and name (what commands address), read again when an unknown id shows up. */
export class RouterDirectory {
  sites = new Map<string, string>();
  names = new Map<string, string>();

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly routers: RoutersRepository,
  ) {}

  async refresh(): Promise<void> {
    this.sites = await this.outbox.routerSites();
    const names = new Map<string, string>();
    for (const r of await this.routers.list()) names.set(String(r.id), r.name);
    this.names = names;
  }

  name(routerId: unknown): string | undefined {
    return this.names.get(String(routerId));
  }
}
