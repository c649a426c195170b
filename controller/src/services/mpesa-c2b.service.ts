import type { MpesaTransactionView } from '@mtandao/protocol/api';
import type { Database, Transaction } from '../db/database.ts';
import { AppError, notFound } from '../errors.ts';
import type { RequestMeta } from '../http/route.ts';
import { formatAmount } from '../domain/money.ts';
import type { Logger } from '../logger.ts';
import { normalizeAccount, parseC2b } from '../mpesa/payloads.ts';
import type { MpesaRepository, MpesaTransactionRow, NewMpesaTransaction, ReceiptlessPrompt, ReceivedRow } from '../repositories/mpesa.repository.ts';
import type { AuditService } from './audit.service.ts';
import type { MpesaConfig } from './mpesa-settings.service.ts';
import type { PaymentReceiver, ReceivedPayment } from './payment-receiver.ts';

/** What a callback is answered: HTTP status and Daraja's JSON. */
export interface CallbackAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** The acknowledgement Daraja waits for; any 2xx stops its retries. */
export const ACCEPTED: CallbackAnswer = { status: 200, body: { ResultCode: 0, ResultDesc: 'Accepted' } };

export function transactionView(r: MpesaTransactionRow): MpesaTransactionView {
  const name = [r.first_name, r.middle_name, r.last_name].filter(Boolean).join(' ');
  return {
    id: String(r.id),
    source: r.source,
    transId: r.trans_id,
    transType: r.trans_type,
    transTime: r.trans_time ? new Date(r.trans_time).toISOString() : null,
    amount: r.amount_minor === null ? null : formatAmount(r.amount_minor),
    shortCode: r.business_short_code,
    billRefNumber: r.bill_ref_number,
    msisdn: r.msisdn,
    name: name || null,
    status: r.status,
    reason: r.reason,
    customerId: r.customer_id === null ? null : String(r.customer_id),
    customerName: r.customer_name,
    paymentId: r.payment_id,
    receiptNumber: r.receipt_number,
    receivedAt: new Date(r.received_at).toISOString(),
    processedAt: r.processed_at ? new Date(r.processed_at).toISOString() : null,
  };
}

/** The payer's phone when Safaricom shows it in full (it masks or hashes it on most shortcodes). */
const phoneOf = (msisdn: string | null): string | null => (msisdn && /^254\d{9}$/.test(msisdn) ? msisdn : null);

/** Paybill and till payments: C2B validation and confirmation, the unmatched queue. */
export class MpesaC2bService {
  constructor(
    private readonly db: Database,
    private readonly repo: MpesaRepository,
    private readonly receiver: PaymentReceiver,
    private readonly audit: AuditService,
    private readonly log: Logger,
  ) {}

  /** Whether a BusinessShortCode is ours (the paybill, or a till's store or till number). */
  private ours(cfg: MpesaConfig, shortCode: string): boolean {
    return shortCode === cfg.shortcode || (cfg.tillNumber !== null && shortCode === cfg.tillNumber);
  }

  /** Validation: accept, or refuse with Daraja's documented C2B codes. Nothing is stored. */
  async validation(raw: string, cfg: MpesaConfig): Promise<CallbackAnswer> {
    const p = parseC2b(raw);
    const reject = (code: string): CallbackAnswer => ({ status: 200, body: { ResultCode: code, ResultDesc: 'Rejected' } });
    if (!p.ok) return reject(p.code);
    if (!this.ours(cfg, p.value.BusinessShortCode)) return reject('C2B00015');
    if (cfg.validationPolicy === 'reject-unknown' && cfg.shortcodeType === 'paybill') {
      const account = normalizeAccount(p.value.BillRefNumber);
      const customer = account ? await this.db.transaction((tx) => this.repo.customerByAccount(account, tx)) : undefined;
      if (!customer) return reject('C2B00012');
    }
    return { status: 200, body: { ResultCode: '0', ResultDesc: 'Accepted' } };
  }

  /**
   * Confirmation: stored first (a database failure here answers 503 so Daraja retries), then
   * answered; the payment follows in its own transaction, and a stored confirmation whose payment
   * did not happen (crash, outage) is picked up by the sweep.
   */
  async confirmation(raw: string, cfg: MpesaConfig): Promise<CallbackAnswer> {
    const p = parseC2b(raw);
    if (!p.ok) {
      const transId = p.partial.TransID?.trim();
      await this.repo.store({
        source: 'c2b',
        transId: transId && /^[A-Za-z0-9]{6,20}$/.test(transId) ? transId : null,
        amountMinor: p.amountMinor,
        transType: p.partial.TransactionType ?? null,
        shortCode: p.partial.BusinessShortCode ?? null,
        billRefNumber: p.partial.BillRefNumber ?? null,
        msisdn: p.partial.MSISDN ?? null,
        firstName: p.partial.FirstName ?? null,
        raw: raw.slice(0, 20_000),
        status: 'rejected',
        reason: p.reason,
      });
      this.log.warn({ reason: p.reason }, 'M-Pesa confirmation rejected');
      return ACCEPTED;
    }
    const v = p.value;
    const known = this.ours(cfg, v.BusinessShortCode);
    const record: NewMpesaTransaction = {
      source: 'c2b',
      transId: v.TransID,
      transType: v.TransactionType,
      transTime: p.transTime,
      amountMinor: p.amountMinor,
      shortCode: v.BusinessShortCode,
      billRefNumber: v.BillRefNumber,
      invoiceNumber: v.InvoiceNumber,
      orgAccountBalance: v.OrgAccountBalance,
      thirdPartyTransId: v.ThirdPartyTransID,
      msisdn: v.MSISDN,
      firstName: v.FirstName,
      middleName: v.MiddleName,
      lastName: v.LastName,
      raw: raw.slice(0, 20_000),
      status: known ? 'received' : 'rejected',
      reason: known ? null : `Unknown shortcode ${v.BusinessShortCode}`,
    };
    if (!known) {
      await this.repo.store(record);
      return ACCEPTED;
    }
    try {
      // stored and paid in one transaction, answered after its commit
      await this.db.transaction(async (tx) => {
        const claim = await this.repo.claim(record, v.BillRefNumber ? normalizeAccount(v.BillRefNumber) : null, phoneOf(v.MSISDN), tx);
        if (!claim.created) {
          // a repeat: paid already, or stored by a try whose payment failed (paid now)
          if (claim.status === 'received') await this.processIn(tx, claim.id);
          return;
        }
        const row: ReceivedRow = {
          id: claim.id,
          source: 'c2b',
          trans_id: v.TransID,
          amount_minor: String(p.amountMinor),
          bill_ref_number: v.BillRefNumber,
          customer_id: null,
          msisdn: v.MSISDN,
          paid_at: new Date(),
        };
        await this.pay(tx, row, claim.customerId ?? undefined, claim.prompt);
      });
    } catch (err) {
      // the payment failed, and the confirmation with it: stored on its own (durable before the answer;
      // if this fails too Daraja gets a 503 and retries), the sweep turns it into a payment later
      this.log.error({ err, transId: v.TransID }, 'M-Pesa confirmation stored, payment deferred');
      await this.repo.store(record);
    }
    return ACCEPTED;
  }

  /**
   * Turns a stored transaction into a payment, exactly once: the row is locked and re-checked, so
   * concurrent repeats of one TransID wait for the first and then find it done.
   */
  process(id: string): Promise<ReceivedPayment | undefined> {
    return this.db.transaction((tx) => this.processIn(tx, id));
  }

  /** `process` inside the caller's transaction. */
  async processIn(tx: Transaction, id: string): Promise<ReceivedPayment | undefined> {
    const row = await this.repo.lockReceived(id, tx);
    if (!row) return undefined;
    const customerId = row.customer_id ?? (row.bill_ref_number ? await this.repo.customerByAccount(normalizeAccount(row.bill_ref_number), tx) : undefined);
    return this.pay(tx, row, customerId);
  }

  /**
   * Pays a locked (or just stored) transaction to its customer, or queues it as unmatched.
   * `prompt` is the receipt-less prompt when the caller already looked for it (null: none).
   */
  private async pay(
    tx: Transaction,
    row: ReceivedRow,
    customerId: string | undefined,
    prompt?: ReceiptlessPrompt | null,
  ): Promise<ReceivedPayment | undefined> {
    const id = row.id;
    if (!customerId) {
      await this.repo.settle(
        id,
        { status: 'unmatched', reason: row.bill_ref_number ? `No customer has account number "${row.bill_ref_number}"` : 'No account number given' },
        tx,
      );
      return undefined;
    }
    if (row.source === 'c2b') {
      // the same money as a prompt the STK query settled without M-Pesa's receipt: paid once
      const same =
        prompt === undefined ? await this.repo.receiptlessPrompt(String(customerId), row.amount_minor, phoneOf(row.msisdn), new Date(row.paid_at), tx) : prompt;
      if (same) {
        await this.repo.setPromptReceipt(same.checkout_request_id, row.trans_id, tx);
        await this.repo.settle(
          id,
          {
            status: 'matched',
            customerId: String(customerId),
            paymentId: same.payment_id,
            // a settle that committed while this waited for the prompt's lock is past this statement's view
            receiptNumber: same.receipt_number ?? (same.payment_id ? await this.repo.receiptOfEntry(same.payment_id, tx) : null),
            reason: `Paid once: the M-Pesa prompt ${same.checkout_request_id} was settled by the STK query before this receipt arrived`,
          },
          tx,
        );
        return undefined;
      }
    }
    const paid = await this.receiver.receivePayment(
      null,
      {
        customerId: String(customerId),
        method: 'mpesa',
        amountMinor: BigInt(row.amount_minor),
        reference: row.trans_id,
        note: `M-Pesa ${row.source === 'stk' ? 'prompt' : 'paybill'} ${row.trans_id}`,
      },
      tx,
    );
    await this.repo.settle(id, { status: 'matched', customerId: String(customerId), paymentId: paid.entryId, receiptNumber: paid.receiptNumber }, tx);
    return paid;
  }

  /** Stored confirmations still waiting (older than a few seconds: the live path may be on them). */
  async sweep(): Promise<number> {
    const ids = await this.repo.waiting(new Date(Date.now() - 5000), 200);
    let n = 0;
    for (const id of ids) {
      try {
        if (await this.process(id)) n++;
      } catch (err) {
        this.log.error({ err, mpesaTransactionId: id }, 'M-Pesa payment still failing');
      }
    }
    return n;
  }

  async list(query: {
    status?: MpesaTransactionRow['status'] | undefined;
    page: number;
    pageSize: number;
  }): Promise<{ items: MpesaTransactionView[]; total: number }> {
    const { rows, total } = await this.repo.list(query, query.pageSize, (query.page - 1) * query.pageSize);
    return { items: rows.map(transactionView), total };
  }

  async get(id: string): Promise<MpesaTransactionView> {
    const row = await this.repo.get(id);
    if (!row) throw notFound('M-Pesa transaction');
    return transactionView(row);
  }

  /** Gives an unmatched payment to a customer: a payment like a matched one, audited with who did it. */
  async assign(meta: RequestMeta, id: string, customerId: string): Promise<MpesaTransactionView> {
    await this.db.transaction(async (tx) => {
      const row = await this.repo.lockUnmatched(id, tx);
      if (!row) throw notFound('M-Pesa transaction');
      if (row.status !== 'unmatched')
        throw new AppError(
          409,
          row.status === 'rejected' ? 'This notification was rejected: it carries no payment to assign' : 'This payment is already assigned to a customer',
        );
      let paid: ReceivedPayment;
      try {
        paid = await this.receiver.receivePayment(
          meta,
          {
            customerId,
            method: 'mpesa',
            amountMinor: BigInt(row.amount_minor),
            reference: row.trans_id,
            note: `M-Pesa ${row.trans_id} assigned by ${meta.actor.username}`,
          },
          tx,
        );
      } catch (err) {
        if (err instanceof AppError && err.status === 404)
          throw new AppError(422, 'Customer not found', { field: 'customerId', issues: [{ field: 'customerId', message: 'Customer not found' }] });
        throw err;
      }
      await this.repo.settle(
        id,
        { status: 'assigned', customerId, paymentId: paid.entryId, receiptNumber: paid.receiptNumber, assignedBy: meta.actor.userId },
        tx,
      );
      await this.audit.record(meta, 'mpesa.assign', 'mpesa_transaction', id, { transId: row.trans_id, customerId }, tx);
    });
    return this.get(id);
  }
}
