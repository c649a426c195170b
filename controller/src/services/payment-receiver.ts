import type { PaymentMethod } from '@mtandao/protocol';
import type { Transaction } from 'sequelize';
import type { RequestMeta } from '../http/route.ts';
import type { ReceivedPayment } from './billing.service.ts';

export type { ReceivedPayment };

/**
 * The seam M-Pesa pays through: the ledger's `BillingService.receivePayment` (money contract).
 * `meta === null` is the system; with `tx` everything happens in the caller's transaction.
 */
export interface PaymentReceiver {
  receivePayment(
    meta: RequestMeta | null,
    input: { customerId: string; method: PaymentMethod; amountMinor: bigint; reference?: string; note?: string },
    tx?: Transaction,
  ): Promise<ReceivedPayment>;
}
