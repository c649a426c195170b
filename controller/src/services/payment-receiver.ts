import type { CustomerStatus, PaymentMethod } from '@mtandao/protocol';
import type { Transaction } from 'sequelize';
import { notFound } from '../errors.ts';
import type { RequestMeta } from '../http/route.ts';
import { addValidity } from '../lib/validity.ts';
import type { CustomersRepository } from '../repositories/customers.repository.ts';
import type { PlansRepository } from '../repositories/plans.repository.ts';
import type { AuditService } from './audit.service.ts';
import type { ProvisioningService } from './provisioning.service.ts';

/** What a received payment did. */
export interface ReceivedPayment {
  entryId: string;
  receiptNumber: string;
  periods: number;
  expiresAt: string | null;
  status: CustomerStatus;
}

/**
 * The seam M-Pesa pays through: the ledger's `BillingService.receivePayment` (money contract).
 * `meta === null` is the system; with `tx` everything happens in the caller's transaction.
 */
export interface PaymentReceiver {
  receivePayment(meta: RequestMeta | null, input: { customerId: string; method: PaymentMethod; amountMinor: bigint; reference?: string; note?: string }, tx?: Transaction): Promise<ReceivedPayment>;
}

/**
 * Until the ledger lands: a plan payment as `customers.addPayment` records it today (a payment row,
 * the balance, a renewal and the router update), but inside the caller's transaction.
 */
export class LegacyPaymentReceiver implements PaymentReceiver {
  constructor(
    private readonly customers: CustomersRepository,
    private readonly plans: PlansRepository,
    private readonly provisioning: ProvisioningService,
    private readonly audit: AuditService,
  ) {}

  async receivePayment(meta: RequestMeta | null, input: { customerId: string; method: PaymentMethod; amountMinor: bigint; reference?: string; note?: string }, tx?: Transaction): Promise<ReceivedPayment> {
    if (!tx) throw new Error('LegacyPaymentReceiver needs the caller transaction');
    const c = await this.customers.findById(input.customerId, tx, true);
    if (!c) throw notFound('Customer');
    const plan = (await this.plans.findById(String(c.planId), tx))!;
    const payment = await this.customers.createPayment(
      { customerId: input.customerId, method: input.method, kind: 'plan', amountMinor: input.amountMinor.toString(), reference: input.reference ?? null, note: input.note ?? null, staffUserId: meta?.actor.userId ?? null },
      tx,
    );
    await this.customers.addBalance(input.customerId, input.amountMinor - BigInt(plan.priceMinor), tx);
    const now = new Date();
    const expiresAt = addValidity(c.expiresAt && c.expiresAt > now ? c.expiresAt : now, plan.validityCount, plan.validityUnit);
    const status = c.status === 'suspended' ? 'suspended' : 'active';
    await this.customers.update(input.customerId, { expiresAt, status, activatedAt: c.activatedAt ?? now }, tx);
    const routers = await this.customers.routersFor({ networkId: c.networkId, planId: String(c.planId) }, tx);
    await this.provisioning.enqueue(tx, routers.map((routerId) => ({ routerId, type: 'customer.apply', customerId: input.customerId, reason: 'customer payment', payload: { username: c.username } })), meta?.actor.userId ?? null);
    await this.audit.record(meta, 'customer.payment', 'customer', input.customerId, { method: input.method, amountMinor: input.amountMinor.toString(), reference: input.reference, expiresAt: expiresAt.toISOString() }, tx);
    const id = String(payment.id);
    return { entryId: id, receiptNumber: `P${id.padStart(6, '0')}`, periods: 1, expiresAt: expiresAt.toISOString(), status };
  }
}
