import type { Transaction } from 'sequelize';
import type { Customer } from '../db/models/index.ts';
import type { CustomersRepository } from '../repositories/customers.repository.ts';
import type { JobIntent, ProvisioningService } from './provisioning.service.ts';

/** The customer fields router jobs depend on. */
export type RoutedCustomer = Pick<Customer, 'id' | 'connectionType' | 'username' | 'ipAddress' | 'networkId' | 'planId'>;

/** What a change to a customer must send to routers: shared by registration, lifecycle and billing. */
export class CustomerJobs {
  constructor(
    private readonly customers: CustomersRepository,
    private readonly provisioning: ProvisioningService,
  ) {}

  removalIntents(routers: string[], c: RoutedCustomer, reason: string): JobIntent[] {
    const ref = { customerId: String(c.id), connectionType: c.connectionType, username: c.username, ...(c.ipAddress ? { ipAddress: c.ipAddress } : {}) };
    return routers.map((routerId) => ({
      routerId,
      type: 'customer.remove',
      customerId: String(c.id),
      reason,
      payload: { customer: ref, username: c.username },
    }));
  }

  /**
   * Queues customer.apply on the routers the customer lives on (after a plan or network move:
   * the new ones), and customer.remove on routers that no longer carry it. Wakes at commit.
   * `known` are those routers when the caller already read them (a payment does, with its lock).
   */
  async apply(
    tx: Transaction,
    userId: string | null,
    c: RoutedCustomer,
    reason: string,
    after: { planId?: string; networkId?: string | null } = {},
    known?: { before: string[]; now: string[] },
  ): Promise<string[]> {
    const before = known?.before ?? (await this.customers.routersFor({ networkId: c.networkId, planId: String(c.planId) }, tx));
    const moved = (after.planId !== undefined && after.planId !== String(c.planId)) || (after.networkId !== undefined && after.networkId !== c.networkId);
    const now = known
      ? known.now
      : moved
        ? await this.customers.routersFor(
            { networkId: after.networkId !== undefined ? after.networkId : c.networkId, planId: after.planId ?? String(c.planId) },
            tx,
          )
        : before;
    const jobs: JobIntent[] = [
      ...this.removalIntents(
        before.filter((r) => !now.includes(r)),
        c,
        `${reason}: router no longer carries the customer`,
      ),
      // the username rides along so the job history still names the customer after a delete
      ...now.map((routerId) => ({ routerId, type: 'customer.apply', customerId: String(c.id), reason, payload: { username: c.username } })),
    ];
    await this.provisioning.enqueue(tx, jobs, userId);
    return now;
  }
}
