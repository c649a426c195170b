import type { Transaction } from 'sequelize';
import type { Database } from '../db/database.ts';
import type { JobsRepository, ReconcileGate } from '../repositories/jobs.repository.ts';
import type { ProvisioningService } from '../services/provisioning.service.ts';

export type { ReconcileGate };

/**
 * Queues `router.reconcile` jobs: after a plan edit that customer entries depend on, when an agent
 * connects, when a router comes back empty and on the periodic drift check. A router that already
 * has one waiting (not yet sent: it is built at delivery, so it will carry the latest state) is
 * left out, and so, when asked, is one reconciled a moment ago.
 */
export class ReconcileQueue {
  constructor(
    private readonly db: Database,
    private readonly jobs: JobsRepository,
    private readonly provisioning: ProvisioningService,
    private readonly chunksFor: (routerId: string, tx?: Transaction) => Promise<number>,
  ) {}

  /** Returns the routers a reconcile was queued for. */
  async queue(routerIds: string[], reason: string, gate: ReconcileGate = {}, tx?: Transaction, createdBy: string | null = null): Promise<string[]> {
    if (routerIds.length === 0) return [];
    const run = async (t: Transaction): Promise<string[]> => {
      const ids = await this.jobs.routersDueReconcile(routerIds, gate, t);
      const intents = [];
      for (const routerId of ids) intents.push({ routerId, type: 'router.reconcile', reason, payload: { chunks: await this.chunksFor(routerId, t) } });
      await this.provisioning.enqueue(t, intents, createdBy);
      return ids;
    };
    return tx ? run(tx) : this.db.transaction(run);
  }
}
