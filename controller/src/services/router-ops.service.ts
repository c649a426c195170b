import type { JobView } from '@mtandao/protocol/api';
import { AppError, notFound } from '../errors.ts';
import type { RequestMeta } from '../http/route.ts';
import type { RoutersRepository } from '../repositories/routers.repository.ts';
import type { AuditService } from './audit.service.ts';
import type { ProvisioningService } from './provisioning.service.ts';
import type { Database } from '../db/database.ts';

/** Whole-router operations: reconcile to the desired state, and read back managed entries for NOC. */
export class RouterOpsService {
  constructor(
    private readonly db: Database,
    private readonly routers: RoutersRepository,
    private readonly provisioning: ProvisioningService,
    private readonly audit: AuditService,
    private readonly chunksFor: (routerId: string) => Promise<number>,
  ) {}

  /** Queues a reconcile: the agent makes the router match, touching only marked entries. */
  async reconcile(meta: RequestMeta, routerId: string): Promise<JobView> {
    if (!(await this.routers.get(routerId))) throw notFound('Router');
    const chunks = await this.chunksFor(routerId);
    const [jobId] = await this.db.transaction(async (tx) => {
      const ids = await this.provisioning.enqueue(
        tx,
        [{ routerId, type: 'router.reconcile', reason: 'reconcile requested', payload: { chunks } }],
        meta.actor.userId,
      );
      await this.audit.record(meta, 'router.reconcile', 'router', routerId, { jobId: ids[0] }, tx);
      return ids;
    });
    return this.provisioning.get(jobId!);
  }

  /** Reads back one page of the router's managed entries through its agent (waits for the answer). */
  async readback(
    meta: RequestMeta,
    routerId: string,
    page: { offset: number; limit: number },
    waitMs = 15_000,
  ): Promise<{ entries: unknown[]; total: number; jobId: string }> {
    const router = await this.routers.get(routerId);
    if (!router) throw notFound('Router');
    if (!router.agent_connected) throw new AppError(409, `The agent of ${router.site_name} is offline: the router cannot be read now`);
    const [jobId] = await this.db.transaction((tx) =>
      this.provisioning.enqueue(tx, [{ routerId, type: 'router.readback', reason: `read back by ${meta.actor.username}`, payload: page }], meta.actor.userId),
    );
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      const job = await this.provisioning.get(jobId!);
      if (job.status === 'applied') return { entries: (job.result?.entries as unknown[]) ?? [], total: Number(job.result?.total ?? 0), jobId: jobId! };
      if (job.status === 'failed') throw new AppError(409, `The router could not be read: ${job.routerError ?? job.lastError ?? 'unknown error'}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new AppError(503, 'The router did not answer in time (is its agent online?)', { code: 'unavailable' });
  }
}
