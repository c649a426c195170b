import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { darajaTimestamp } from '../daraja-client.ts';
import { DARAJA_REFUSED_URL } from '@mtandao/protocol/api';
import { fakePage } from './page.ts';

// A local Safaricom Daraja for tests and the demo, built from the documented payloads: OAuth,
// C2B register URL (v1 and v2), STK push with its callback, STK query, and a customer paying a
// paybill (validation, then confirmation, to the registered URLs, as Safaricom sends them).

/** How an STK push ends: 0 paid, 1032 cancelled, 1037 timeout, others failed; `callback: false` stays silent (the query knows). */
export interface StkOutcome {
  resultCode: number;
  callback?: boolean;
}

export interface DarajaFakeOptions {
  /** When set, OAuth demands exactly these. */
  consumerKey?: string;
  consumerSecret?: string;
  /** When set, STK Password must be base64(shortcode + passkey + timestamp). */
  passkey?: string;
  /** Delay before the STK callback (ms). */
  stkDelayMs?: number;
  /** After a paid STK push to a paybill, also send the C2B confirmation (some Safaricom setups do). */
  stkAlsoConfirms?: boolean;
  /** Token lifetime Daraja reports (s). */
  expiresIn?: number;
}

interface Registration {
  ShortCode: string;
  ResponseType: string;
  ConfirmationURL: string;
  ValidationURL: string;
  version: 'v1' | 'v2';
}

interface StkRecord {
  request: Record<string, unknown>;
  merchantRequestId: string;
  checkoutRequestId: string;
  outcome: StkOutcome;
  receipt: string;
  done: boolean;
  callbackAnswer?: { status: number; body: unknown } | { error: string };
}

/** What a delivery to the merchant's URL got back. */
export type Delivery = { status: number; body: unknown } | { error: string };

const STK_DESCRIPTIONS: Record<number, string> = {
  0: 'The service request is processed successfully.',
  1: 'The balance is insufficient for the transaction.',
  1032: 'Request cancelled by user',
  1037: 'DS timeout user cannot be reached',
  2001: 'The initiator information is invalid.',
};

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** An M-Pesa receipt like "RKTQDM7W6S". */
export function receiptNumber(): string {
  const b = randomBytes(10);
  return Array.from(b, (x) => ALNUM[x % ALNUM.length]).join('');
}

async function post(url: string, body: unknown, timeoutMs = 10_000): Promise<Delivery> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // keep the text
    }
    return { status: res.status, body: parsed };
  } catch (err) {
    return { error: (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message };
  }
}

export class DarajaFake {
  readonly registrations = new Map<string, Registration>();
  readonly stk = new Map<string, StkRecord>();
  readonly tokens = new Set<string>();
  readonly payments: { transId: string; payload: Record<string, unknown>; validation: Delivery | null; confirmation: Delivery | null }[] = [];
  tokensIssued = 0;
  /** Outcomes for the next STK pushes, first in first out; then the phone number decides. */
  readonly nextStk: StkOutcome[] = [];
  /** How long the next STK push requests wait before Daraja answers them (a slow Safaricom). */
  pushAnswerDelayMs = 0;
  #server: Server | undefined;
  #timers = new Set<NodeJS.Timeout>();
  url = '';

  constructor(readonly options: DarajaFakeOptions = {}) {}

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    this.#server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.#server!.once('error', reject);
      this.#server!.listen(port, host, () => resolve());
    });
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    if (!this.#server) return;
    await new Promise<void>((resolve) => {
      this.#server!.close(() => resolve());
      this.#server!.closeAllConnections();
    });
  }

  /** The outcome an STK push to this phone gets: queued ones first, then the number's last digits. */
  private outcomeFor(phone: string): StkOutcome {
    const queued = this.nextStk.shift();
    if (queued) return queued;
    if (phone.endsWith('1032')) return { resultCode: 1032 };
    if (phone.endsWith('1037')) return { resultCode: 1037 };
    if (phone.endsWith('0001')) return { resultCode: 1 };
    if (phone.endsWith('0000')) return { resultCode: 0, callback: false };
    return { resultCode: 0 };
  }

  /**
   * A customer pays the paybill (or till) from their phone: validation first (when it answers with
   * a rejection the payment stops there, as with Safaricom), then the confirmation.
   */
  async payBill(input: {
    shortCode: string;
    account: string;
    amount: string | number;
    phone?: string;
    transId?: string;
    firstName?: string;
    type?: 'Pay Bill' | 'Buy Goods';
  }): Promise<{ transId: string; validation: Delivery | null; confirmation: Delivery | null; message: string }> {
    const reg = this.registrations.get(input.shortCode);
    const transId = input.transId ?? receiptNumber();
    if (!reg) return { transId, validation: null, confirmation: null, message: `No URLs are registered for shortcode ${input.shortCode}` };
    const amount = typeof input.amount === 'number' ? input.amount.toFixed(2) : input.amount;
    const phone = input.phone ?? '254708374149';
    const payload: Record<string, unknown> = {
      TransactionType: input.type ?? 'Pay Bill',
      TransID: transId,
      TransTime: darajaTimestamp(),
      TransAmount: amount,
      BusinessShortCode: input.shortCode,
      BillRefNumber: input.type === 'Buy Goods' ? '' : input.account,
      InvoiceNumber: '',
      OrgAccountBalance: '49197.00',
      ThirdPartyTransID: '',
      // Safaricom masks the number in C2B notifications
      MSISDN: `${phone.slice(0, 4)}*****${phone.slice(-3)}`,
      FirstName: input.firstName ?? 'John',
      MiddleName: '',
      LastName: '',
    };
    const validation = await post(reg.ValidationURL, payload);
    const rejected =
      'status' in validation
        ? !(validation.status === 200 && String((validation.body as { ResultCode?: unknown })?.ResultCode) === '0')
        : reg.ResponseType === 'Cancelled';
    if (rejected) {
      this.payments.push({ transId, payload, validation, confirmation: null });
      return {
        transId,
        validation,
        confirmation: null,
        message: `Validation refused the payment: ${JSON.stringify('status' in validation ? validation.body : validation.error)}`,
      };
    }
    const confirmation = await post(reg.ConfirmationURL, payload);
    this.payments.push({ transId, payload, validation, confirmation });
    const ok = 'status' in confirmation && confirmation.status >= 200 && confirmation.status < 300;
    return {
      transId,
      validation,
      confirmation,
      message: ok ? `Paid: ${transId}` : `The confirmation was not accepted: ${JSON.stringify('status' in confirmation ? confirmation : confirmation.error)}`,
    };
  }

  /** Sends a stored payment's confirmation again (Safaricom retries until it gets a 2xx). */
  async resend(transId: string): Promise<Delivery | null> {
    const p = this.payments.find((x) => x.transId === transId);
    const reg = p ? this.registrations.get(String(p.payload.BusinessShortCode)) : undefined;
    if (!p || !reg) return null;
    p.confirmation = await post(reg.ConfirmationURL, p.payload);
    return p.confirmation;
  }

  private stkCallbackBody(r: StkRecord): Record<string, unknown> {
    const code = r.outcome.resultCode;
    const cb: Record<string, unknown> = {
      MerchantRequestID: r.merchantRequestId,
      CheckoutRequestID: r.checkoutRequestId,
      ResultCode: code,
      ResultDesc: STK_DESCRIPTIONS[code] ?? 'The transaction failed',
    };
    if (code === 0) {
      cb.CallbackMetadata = {
        Item: [
          { Name: 'Amount', Value: Number(r.request.Amount) },
          { Name: 'MpesaReceiptNumber', Value: r.receipt },
          { Name: 'Balance' },
          { Name: 'TransactionDate', Value: Number(darajaTimestamp()) },
          { Name: 'PhoneNumber', Value: Number(r.request.PhoneNumber) },
        ],
      };
    }
    return { Body: { stkCallback: cb } };
  }

  private async finishStk(r: StkRecord): Promise<void> {
    r.done = true;
    if (r.outcome.callback !== false) r.callbackAnswer = await post(String(r.request.CallBackURL), this.stkCallbackBody(r));
    const reg = this.registrations.get(String(r.request.BusinessShortCode));
    if (r.outcome.resultCode === 0 && this.options.stkAlsoConfirms && reg && r.request.TransactionType === 'CustomerPayBillOnline') {
      await this.payBill({
        shortCode: String(r.request.BusinessShortCode),
        account: String(r.request.AccountReference),
        amount: `${Number(r.request.Amount)}.00`,
        phone: String(r.request.PhoneNumber),
        transId: r.receipt,
      });
    }
  }

  private error(res: ServerResponse, status: number, errorCode: string, errorMessage: string): void {
    this.send(res, status, { requestId: `${randomBytes(4).readUInt16BE()}-${randomBytes(4).readUInt32BE()}-1`, errorCode, errorMessage });
  }
  private send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
    res.writeHead(status, { 'content-type': type });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  }

  private authorised(req: IncomingMessage): boolean {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    return Boolean(m && this.tokens.has(m[1]!));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: Record<string, unknown> = {};
    if (raw && (req.headers['content-type'] ?? '').includes('json')) {
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return this.error(res, 400, '400.002.05', 'Invalid Request Payload');
      }
    } else if (raw) {
      body = Object.fromEntries(new URLSearchParams(raw));
    }
    try {
      await this.route(req.method ?? 'GET', url, body, req, res);
    } catch (err) {
      this.error(res, 500, '500.003.1001', `Internal Server Error: ${(err as Error).message}`);
    }
  }

  private async route(method: string, url: URL, body: Record<string, unknown>, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = url.pathname;
    if (method === 'GET' && path === '/oauth/v1/generate') {
      if (url.searchParams.get('grant_type') !== 'client_credentials') return this.error(res, 400, '400.008.02', 'Invalid grant type passed');
      const m = /^Basic (\S+)$/.exec(req.headers.authorization ?? '');
      const [key, secret] = m ? Buffer.from(m[1]!, 'base64').toString('utf8').split(':') : [];
      const wrong =
        !key ||
        !secret ||
        (this.options.consumerKey !== undefined && key !== this.options.consumerKey) ||
        (this.options.consumerSecret !== undefined && secret !== this.options.consumerSecret);
      if (wrong) return this.error(res, 400, '400.008.01', 'Invalid Authentication passed');
      const token = randomBytes(21).toString('base64url');
      this.tokens.add(token);
      this.tokensIssued++;
      return this.send(res, 200, { access_token: token, expires_in: String(this.options.expiresIn ?? 3599) });
    }
    if (method === 'POST' && (path === '/mpesa/c2b/v1/registerurl' || path === '/mpesa/c2b/v2/registerurl')) {
      if (!this.authorised(req)) return this.error(res, 404, '404.001.03', 'Invalid Access Token');
      const shortCode = String(body.ShortCode ?? '');
      if (!/^\d{5,7}$/.test(shortCode)) return this.error(res, 400, '400.002.02', 'Bad Request - Invalid ShortCode');
      if (body.ResponseType !== 'Completed' && body.ResponseType !== 'Cancelled')
        return this.error(res, 400, '400.002.02', 'Bad Request - Invalid ResponseType');
      for (const k of ['ConfirmationURL', 'ValidationURL'] as const) {
        const url = String(body[k] ?? '');
        if (!/^https?:\/\/\S+$/.test(url) || DARAJA_REFUSED_URL.test(url)) return this.error(res, 400, '400.002.02', `Bad Request - Invalid ${k}`);
      }
      this.registrations.set(shortCode, {
        ShortCode: shortCode,
        ResponseType: String(body.ResponseType),
        ConfirmationURL: String(body.ConfirmationURL),
        ValidationURL: String(body.ValidationURL),
        version: path.includes('/v2/') ? 'v2' : 'v1',
      });
      return this.send(res, 200, {
        OriginatorCoversationID: `${randomBytes(3).readUIntBE(0, 3)}-${randomBytes(4).readUInt32BE()}-1`,
        ResponseCode: '0',
        ResponseDescription: 'Success',
      });
    }
    if (method === 'POST' && path === '/mpesa/stkpush/v1/processrequest') {
      if (this.pushAnswerDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.pushAnswerDelayMs));
      if (!this.authorised(req)) return this.error(res, 404, '404.001.03', 'Invalid Access Token');
      const problem = this.checkStk(body, [
        'BusinessShortCode',
        'Password',
        'Timestamp',
        'TransactionType',
        'Amount',
        'PartyA',
        'PartyB',
        'PhoneNumber',
        'CallBackURL',
        'AccountReference',
        'TransactionDesc',
      ]);
      if (problem) return this.error(res, 400, '400.002.02', `Bad Request - Invalid ${problem}`);
      if (DARAJA_REFUSED_URL.test(String(body.CallBackURL))) return this.error(res, 400, '400.002.02', 'Bad Request - Invalid CallBackURL');
      if (!/^254(7|1)\d{8}$/.test(String(body.PhoneNumber))) return this.error(res, 400, '400.002.02', 'Bad Request - Invalid PhoneNumber');
      if (!Number.isInteger(Number(body.Amount)) || Number(body.Amount) < 1) return this.error(res, 400, '400.002.02', 'Bad Request - Invalid Amount');
      if (String(body.AccountReference).length > 12) return this.error(res, 400, '400.002.02', 'Bad Request - Invalid AccountReference');
      const r: StkRecord = {
        request: body,
        merchantRequestId: `${randomBytes(2).readUInt16BE()}-${randomBytes(4).readUInt32BE()}-1`,
        checkoutRequestId: `ws_CO_${darajaTimestamp()}${randomBytes(6).readUIntBE(0, 6)}`,
        outcome: this.outcomeFor(String(body.PhoneNumber)),
        receipt: receiptNumber(),
        done: false,
      };
      this.stk.set(r.checkoutRequestId, r);
      const t = setTimeout(() => {
        this.#timers.delete(t);
        void this.finishStk(r);
      }, this.options.stkDelayMs ?? 300);
      this.#timers.add(t);
      return this.send(res, 200, {
        MerchantRequestID: r.merchantRequestId,
        CheckoutRequestID: r.checkoutRequestId,
        ResponseCode: '0',
        ResponseDescription: 'Success. Request accepted for processing',
        CustomerMessage: 'Success. Request accepted for processing',
      });
    }
    if (method === 'POST' && path === '/mpesa/stkpushquery/v1/query') {
      if (!this.authorised(req)) return this.error(res, 404, '404.001.03', 'Invalid Access Token');
      const problem = this.checkStk(body, ['BusinessShortCode', 'Password', 'Timestamp', 'CheckoutRequestID']);
      if (problem) return this.error(res, 400, '400.002.02', `Bad Request - Invalid ${problem}`);
      const r = this.stk.get(String(body.CheckoutRequestID));
      if (!r) return this.error(res, 400, '400.002.02', 'Bad Request - Invalid CheckoutRequestID');
      if (!r.done) return this.error(res, 500, '500.001.1001', 'The transaction is being processed');
      return this.send(res, 200, {
        ResponseCode: '0',
        ResponseDescription: 'The service request has been accepted successsfully',
        MerchantRequestID: r.merchantRequestId,
        CheckoutRequestID: r.checkoutRequestId,
        ResultCode: String(r.outcome.resultCode),
        ResultDesc: STK_DESCRIPTIONS[r.outcome.resultCode] ?? 'The transaction failed',
      });
    }
    // control endpoints of the fake (not Daraja's)
    if (method === 'POST' && path === '/fake/c2b') {
      const shortCode = String(body.shortCode ?? [...this.registrations.keys()][0] ?? '');
      const amount = String(body.amount ?? '');
      const result = await this.payBill({
        shortCode,
        account: String(body.account ?? ''),
        amount,
        ...(body.phone ? { phone: String(body.phone) } : {}),
        ...(body.transId ? { transId: String(body.transId) } : {}),
      });
      if ((req.headers.accept ?? '').includes('text/html')) return this.send(res, 200, fakePage(this, result.message), 'text/html; charset=utf-8');
      return this.send(res, 200, result);
    }
    if (method === 'POST' && path === '/fake/c2b/resend') return this.send(res, 200, { confirmation: await this.resend(String(body.transId ?? '')) });
    if (method === 'POST' && path === '/fake/stk/next') {
      this.nextStk.push({ resultCode: Number(body.resultCode ?? 0), callback: body.callback !== false && body.callback !== 'false' });
      return this.send(res, 200, { queued: this.nextStk.length });
    }
    if (method === 'GET' && path === '/fake/state') {
      return this.send(res, 200, {
        registrations: [...this.registrations.values()],
        stk: [...this.stk.values()].map((r) => ({
          checkoutRequestId: r.checkoutRequestId,
          outcome: r.outcome,
          done: r.done,
          callbackAnswer: r.callbackAnswer,
        })),
        payments: this.payments.map((p) => ({ transId: p.transId, validation: p.validation, confirmation: p.confirmation })),
        tokensIssued: this.tokensIssued,
      });
    }
    if (method === 'GET' && path === '/') return this.send(res, 200, fakePage(this), 'text/html; charset=utf-8');
    return this.error(res, 404, '404.001.01', 'Resource not found');
  }

  private checkStk(body: Record<string, unknown>, required: string[]): string | undefined {
    for (const k of required) if (body[k] === undefined || body[k] === '') return k;
    if (!/^\d{14}$/.test(String(body.Timestamp))) return 'Timestamp';
    if (this.options.passkey !== undefined) {
      const expected = Buffer.from(`${String(body.BusinessShortCode)}${this.options.passkey}${String(body.Timestamp)}`).toString('base64');
      if (body.Password !== expected) return 'Password';
    }
    return undefined;
  }
}

export const newRequestId = (): string => randomUUID();
