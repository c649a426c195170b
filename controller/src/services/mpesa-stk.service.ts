import type { StkView } from '@mtandao/protocol/api';
import type { Database } from '../db/database.ts';
import { AppError, invalid, notFound } from '../errors.ts';
import type { RequestMeta } from '../http/route.ts';
import { formatAmount, parseAmount } from '../domain/money.ts';
import { normaliseKenyanMobile } from '../lib/phone.ts';
import type { Logger } from '../logger.ts';
import { DarajaError, darajaTimestamp, stkPassword, type DarajaClient } from '../mpesa/daraja-client.ts';
import { parseStkCallback, stkOutcome } from '../mpesa/payloads.ts';
import type { CustomersRepository } from '../repositories/customers.repository.ts';
import type { MpesaRepository, StkRow } from '../repositories/mpesa.repository.ts';
import type { PlansRepository } from '../repositories/plans.repository.ts';
import type { AuditService } from './audit.service.ts';
import { ACCEPTED, type CallbackAnswer, type MpesaC2bService } from './mpesa-c2b.service.ts';
import type { MpesaConfig, MpesaSettingsService } from './mpesa-settings.service.ts';

export function stkView(r: StkRow): StkView {
  return {
    checkoutRequestId: r.checkout_request_id,
    merchantRequestId: r.merchant_request_id,
    customerId: r.customer_id === null ? null : String(r.customer_id),
    phone: r.phone,
    amount: formatAmount(r.amount_minor),
    accountReference: r.account_reference,
    status: r.status,
    resultCode: r.result_code,
    resultDesc: r.result_desc,
    mpesaReceiptNumber: r.mpesa_receipt_number,
    paymentId: r.payment_id,
    createdAt: new Date(r.created_at).toISOString(),
    completedAt: r.completed_at ? new Date(r.completed_at).toISOString() : null,
  };
}

/** STK push ("M-Pesa prompt"): the request, its callback, and the query when the callback never comes. */
export class MpesaStkService {
  constructor(
    private readonly db: Database,
    private readonly repo: MpesaRepository,
    private readonly customers: CustomersRepository,
    private readonly plans: PlansRepository,
    private readonly settings: MpesaSettingsService,
    private readonly c2b: MpesaC2bService,
    private readonly daraja: DarajaClient,
    private readonly audit: AuditService,
    private readonly log: Logger,
    private readonly options: { queryAfterMs: number },
  ) {}

  /** Sends the prompt to the customer's phone; the answer says pending until the callback. */
  async push(
    meta: RequestMeta,
    customerId: string,
    input: { amount?: string | undefined; phone?: string | undefined },
  ): Promise<StkView & { customerMessage: string | null }> {
    const c = await this.customers.findById(customerId);
    if (!c) throw notFound('Customer');
    const phone = normaliseKenyanMobile(input.phone ?? c.phone);
    if (!phone) throw invalid('phone', 'Invalid phone number');
    let amountMinor: bigint;
    if (input.amount !== undefined) {
      amountMinor = parseAmount(input.amount)!;
    } else {
      // what renews one period: the price less any credit, never nothing
      const plan = (await this.plans.findById(String(c.planId)))!;
      const due = BigInt(plan.priceMinor) - BigInt(c.balanceMinor);
      amountMinor = due > 0n ? due : BigInt(plan.priceMinor);
    }
    if (amountMinor < 100n) throw invalid('amount', 'Amount must be at least 1.00');
    // M-Pesa takes whole shillings only
    if (amountMinor % 100n !== 0n) throw invalid('amount', 'M-Pesa takes whole amounts: no cents');
    if (amountMinor > 250_000_00n) throw invalid('amount', 'Amount is above the M-Pesa limit of 250,000');
    const cfg = await this.settings.current();
    const creds = this.settings.credentials(cfg, true);
    const timestamp = darajaTimestamp();
    const accountReference = c.accountNumber.slice(0, 12);
    const partyB = cfg.shortcodeType === 'till' ? (cfg.tillNumber ?? creds.shortcode) : creds.shortcode;
    const request = {
      BusinessShortCode: creds.shortcode,
      Password: stkPassword(creds.shortcode, creds.passkey, timestamp),
      Timestamp: timestamp,
      TransactionType: cfg.shortcodeType === 'till' ? 'CustomerBuyGoodsOnline' : 'CustomerPayBillOnline',
      Amount: Number(amountMinor / 100n),
      PartyA: phone,
      PartyB: partyB,
      PhoneNumber: phone,
      CallBackURL: this.settings.callbackUrls(cfg).stkCallback,
      AccountReference: accountReference,
      TransactionDesc: 'Internet',
    };
    let answer: Record<string, unknown>;
    try {
      answer = await this.daraja.post(creds, '/mpesa/stkpush/v1/processrequest', request, 'M-Pesa prompt');
    } catch (err) {
      if (err instanceof DarajaError) throw new AppError(502, err.message, { code: 'unavailable', field: 'mpesa', cause: err });
      throw err;
    }
    const checkout = typeof answer.CheckoutRequestID === 'string' ? answer.CheckoutRequestID : '';
    if (String(answer.ResponseCode ?? '') !== '0' || !checkout)
      throw new AppError(
        502,
        `M-Pesa prompt: M-Pesa answered ${String(answer.ResponseDescription ?? answer.errorMessage ?? JSON.stringify(answer)).slice(0, 300)}`,
        { code: 'unavailable', field: 'mpesa' },
      );
    await this.repo.createStk({
      checkoutRequestId: checkout,
      merchantRequestId: typeof answer.MerchantRequestID === 'string' ? answer.MerchantRequestID : null,
      customerId,
      phone,
      amountMinor,
      accountReference,
      requestedBy: meta.actor.userId,
    });
    await this.audit.record(meta, 'mpesa.stk-push', 'customer', customerId, { checkoutRequestId: checkout, amount: formatAmount(amountMinor), phone });
    return { ...(await this.get(checkout)), customerMessage: typeof answer.CustomerMessage === 'string' ? answer.CustomerMessage : null };
  }

  async get(checkoutRequestId: string): Promise<StkView> {
    const row = await this.repo.stk(checkoutRequestId);
    if (!row) throw notFound('M-Pesa prompt');
    return stkView(row);
  }

  async ofCustomer(customerId: string): Promise<{ items: StkView[]; total: number }> {
    const rows = await this.repo.stkOfCustomer(customerId, 20);
    return { items: rows.map(stkView), total: rows.length };
  }

  /** The STK callback: correlated on CheckoutRequestID (it carries no account reference). */
  async callback(raw: string, _cfg: MpesaConfig): Promise<CallbackAnswer> {
    const cb = parseStkCallback(raw);
    if (typeof cb === 'string') {
      await this.repo.store({ source: 'stk', transId: null, raw: raw.slice(0, 20_000), status: 'rejected', reason: cb });
      return ACCEPTED;
    }
    const push = await this.repo.stk(cb.CheckoutRequestID);
    if (!push) {
      await this.repo.store({
        source: 'stk',
        transId: null,
        checkoutRequestId: cb.CheckoutRequestID,
        raw: raw.slice(0, 20_000),
        status: 'rejected',
        reason: `Unknown CheckoutRequestID ${cb.CheckoutRequestID}`,
      });
      return ACCEPTED;
    }
    await this.settle(push, {
      resultCode: cb.ResultCode,
      resultDesc: cb.ResultDesc,
      receipt: cb.items.MpesaReceiptNumber ?? null,
      amountMinor: cb.items.Amount ?? null,
      raw,
    });
    return ACCEPTED;
  }

  /** Applies a result (from the callback or the query) to a push, once. */
  private async settle(
    push: StkRow,
    r: { resultCode: number; resultDesc: string; receipt: string | null; amountMinor: bigint | null; raw: string },
  ): Promise<void> {
    if (push.status !== 'pending') return;
    const outcome = stkOutcome(r.resultCode);
    if (outcome !== 'paid') {
      await this.repo.finishStk(push.checkout_request_id, { status: outcome, resultCode: String(r.resultCode), resultDesc: r.resultDesc || null });
      return;
    }
    // the callback and the query may race: the push is locked, and only a pending one is paid
    await this.db.transaction(async (tx) => {
      const current = await this.repo.stk(push.checkout_request_id, tx, true);
      if (!current || current.status !== 'pending') return;
      if (!r.receipt) {
        // settled by the query, which carries no receipt: a paybill confirmation of this very money
        // may already have paid the customer, and then it is this prompt's receipt
        const confirmed = await this.repo.confirmationOfPrompt(current, tx);
        if (confirmed) {
          await this.repo.finishStk(
            push.checkout_request_id,
            {
              status: 'paid',
              resultCode: String(r.resultCode),
              resultDesc: r.resultDesc || null,
              receipt: confirmed.trans_id,
              paymentId: confirmed.payment_id,
            },
            tx,
          );
          return;
        }
      }
      // the money is stored like a confirmation, under M-Pesa's receipt: if the paybill's confirmation
      // of the same payment also arrives, the unique TransID keeps it to one payment
      const transId = r.receipt ?? `STK-${push.checkout_request_id}`.slice(0, 100);
      const stored = await this.repo.store(
        {
          source: 'stk',
          transId,
          transType: 'STK push',
          amountMinor: r.amountMinor ?? BigInt(push.amount_minor),
          billRefNumber: push.account_reference,
          msisdn: push.phone,
          checkoutRequestId: push.checkout_request_id,
          customerId: push.customer_id === null ? null : String(push.customer_id),
          raw: r.raw.slice(0, 20_000),
          status: 'received',
        },
        tx,
      );
      const paid = stored.status === 'received' ? await this.c2b.processIn(tx, stored.id) : undefined;
      await this.repo.finishStk(
        push.checkout_request_id,
        { status: 'paid', resultCode: String(r.resultCode), resultDesc: r.resultDesc || null, receipt: r.receipt, paymentId: paid?.entryId ?? null },
        tx,
      );
    });
  }

  /** Pushes with no callback after the wait: the STK query decides. */
  async sweep(): Promise<number> {
    const rows = await this.repo.silentStk(new Date(Date.now() - this.options.queryAfterMs), 20);
    if (rows.length === 0) return 0;
    const cfg = await this.settings.current();
    let n = 0;
    for (const push of rows) {
      try {
        const creds = this.settings.credentials(cfg, true);
        const timestamp = darajaTimestamp();
        const answer = await this.daraja.post(
          creds,
          '/mpesa/stkpushquery/v1/query',
          {
            BusinessShortCode: creds.shortcode,
            Password: stkPassword(creds.shortcode, creds.passkey, timestamp),
            Timestamp: timestamp,
            CheckoutRequestID: push.checkout_request_id,
          },
          'STK query',
        );
        const code = Number(answer.ResultCode);
        if (answer.ResultCode === undefined || !Number.isInteger(code)) {
          await this.repo.markQueried(push.checkout_request_id, null);
          continue;
        }
        await this.settle(push, {
          resultCode: code,
          resultDesc: String(answer.ResultDesc ?? ''),
          receipt: null,
          amountMinor: null,
          raw: JSON.stringify(answer),
        });
        n++;
      } catch (err) {
        // "500.001.1001 The transaction is being processed": still open; ask again later
        const message = err instanceof Error ? err.message : String(err);
        const old = Date.now() - new Date(push.created_at).getTime() > 30 * 60_000;
        if (old)
          await this.repo.finishStk(push.checkout_request_id, {
            status: 'failed',
            resultCode: null,
            resultDesc: `No answer from M-Pesa after 30 minutes (${message})`,
          });
        else await this.repo.markQueried(push.checkout_request_id, `Waiting for M-Pesa: ${message}`.slice(0, 300));
        this.log.info({ checkoutRequestId: push.checkout_request_id, err: message }, 'STK query gave no result yet');
      }
    }
    return n;
  }
}
