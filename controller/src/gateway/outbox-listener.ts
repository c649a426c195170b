import pg from 'pg';
import type { Logger } from '../logger.ts';

/** The channel every instance's job writes NOTIFY, with the router ids as payload. */
export const OUTBOX_CHANNEL = 'mtandao_outbox';

/**
 * LISTENs for other instances' job writes on a connection of its own, reconnecting with backoff,
 * and passes on the router ids they name. Its own instance's NOTIFYs (sent from a backend in
 * `ownBackends`) are skipped: the in-process wake already handled them.
 */
export class OutboxListener {
  private client?: pg.Client;
  private stopped = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly onRouters: (routerIds: string[]) => void,
    private readonly logger: Logger,
    private readonly ownBackends: ReadonlySet<number> = new Set(),
  ) {}

  async start(attempt = 0): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.databaseUrl });
    client.on('error', (err) => this.logger.warn({ err: err.message }, 'outbox listener connection failed'));
    client.on('end', () => {
      if (this.stopped) return;
      setTimeout(() => void this.start(attempt + 1), Math.min(30_000, 500 * 2 ** attempt));
    });
    client.on('notification', (n) => {
      if (n.channel !== OUTBOX_CHANNEL || !n.payload || this.ownBackends.has(n.processId)) return;
      this.onRouters(n.payload.split(','));
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
      this.client = client;
      attempt = 0;
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'could not LISTEN for outbox changes; polling only until it works');
      await client.end().catch(() => undefined);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client?.end().catch(() => undefined);
  }
}
