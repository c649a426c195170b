import type { Transaction } from 'sequelize';
import type { Database } from '../db/database.ts';
import type { ProvisioningService } from '../services/provisioning.service.ts';

/** When to leave a router out of a new reconcile. */
export interface ReconcileGate {
  /** Also skip a router whose last reconcile was queued less than this long ago (flapping links). */
  minGapMs?: number;
  /** Also skip a router with a reconcile already sent (its envelope carries the state of then). */
  skipSent?: boolean;
}

/**
 * Queues `router.reconcile` jobs: after a plan edit that customer entries depend on, when an agent
 * connects, when a router comes back empty and on the periodic drift check. A router that already
 * has one waiting (not yet sent: it is built at delivery, so it will carry the latest state) is
 * left out, and so, when asked, is one reconciled a moment ago.
 */
export class ReconcileQueue {
  constructor(
    private readonly db: Database,
    private readonly provisioning: ProvisioningService,
    private readonly chunksFor: (routerId: string, tx?: Transaction) => Promise<number>,
  ) {}

  /** Returns the routers a reconcile was queued for. */
  async queue(routerIds: string[], reason: string, gate: ReconcileGate = {}, tx?: Transaction, createdBy: string | null = null): Promise<string[]> {
    if (routerIds.length === 0) return [];
    const run = async (t: Transaction): Promise<string[]> => {
      const rows = await this.db.rows<{ id: string }>(
        `SELECT r.id FROM routers r WHERE r.id = ANY($1::bigint[]) AND NOT EXISTS (
           SELECT 1 FROM provisioning_jobs j WHERE j.router_id = r.id AND j.type = 'router.reconcile'
              AND (j.status = 'pending' OR ($2::boolean AND j.status = 'sent') OR j.created_at > now() - $3::bigint * interval '1 millisecond'))
         ORDER BY r.id`,
        [routerIds, gate.skipSent ?? false, gate.minGapMs ?? 0],
        t,
      );
      const ids = rows.map((r) => String(r.id));
      const intents = [];
      for (const routerId of ids) intents.push({ routerId, type: 'router.reconcile', reason, payload: { chunks: await this.chunksFor(routerId, t) } });
      await this.provisioning.enqueue(t, intents, createdBy);
      return ids;
    };
    return tx ? run(tx) : this.db.transaction(run);
  }
}
