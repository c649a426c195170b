import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One message the fake accepted (or refused). */
export interface FakeAtMessage {
  headers: IncomingMessage['headers'];
  form: URLSearchParams;
  /** The messageId it answered, when it accepted the message. */
  messageId: string | null;
}

/**
 * A local stand-in for Africa's Talking's SMS API, answering as it documents: POST
 * /version1/messaging, form-encoded username/to/message/from, the `apiKey` header; 201 with
 * SMSMessageData.Recipients[] (statusCode 101 Success, 403 InvalidPhoneNumber, …); 401 for a bad key.
 * It can also fail the next requests with a 500 (to exercise retries) and post delivery reports the
 * way Africa's Talking does: form-encoded id, status, phoneNumber, networkCode, failureReason, retryCount.
 */
export class FakeAfricasTalking {
  readonly received: FakeAtMessage[] = [];
  private server?: Server;
  private failures = 0;
  private ids = 0;
  url = '';
  constructor(private readonly apiKey: string) {}

  /** The next `n` sends answer 500 (a gateway having a bad minute). */
  failNext(n: number): void {
    this.failures = n;
  }

  /** Messages accepted for a number (`2547…` without the plus). */
  to(phone: string): FakeAtMessage[] {
    return this.received.filter((m) => m.form.get('to') === `+${phone}` && m.messageId);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        const entry: FakeAtMessage = { headers: req.headers, form, messageId: null };
        this.received.push(entry);
        if (req.method !== 'POST' || req.url !== '/version1/messaging') return void res.writeHead(404).end();
        if (req.headers.apikey !== this.apiKey) return void res.writeHead(401, { 'content-type': 'text/plain' }).end('The supplied authentication is invalid');
        if (this.failures > 0) {
          this.failures--;
          return void res.writeHead(500, { 'content-type': 'text/plain' }).end('Internal Server Error');
        }
        const to = form.get('to') ?? '';
        const ok = /^\+2547\d{8}$|^\+2541\d{8}$/.test(to) && !to.endsWith('0000');
        const messageId = ok ? `ATXid_${++this.ids}${Date.now().toString(16)}` : null;
        entry.messageId = messageId;
        const recipient = ok
          ? { statusCode: 101, number: to, status: 'Success', cost: 'KES 0.8000', messageId }
          : { statusCode: 403, number: to, status: 'InvalidPhoneNumber', cost: '0', messageId: 'None' };
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ SMSMessageData: { Message: `Sent to ${ok ? 1 : 0}/1 Total Cost: ${recipient.cost}`, Recipients: [recipient] } }));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** Posts a delivery report to `callbackUrl` as Africa's Talking does. */
  async report(
    callbackUrl: string,
    r: { id: string; status: string; phoneNumber: string; networkCode?: string; failureReason?: string; retryCount?: number },
  ): Promise<Response> {
    const form = new URLSearchParams({
      id: r.id,
      status: r.status,
      phoneNumber: r.phoneNumber,
      networkCode: r.networkCode ?? '63902',
      retryCount: String(r.retryCount ?? 0),
    });
    if (r.failureReason) form.set('failureReason', r.failureReason);
    return fetch(callbackUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server!.close(() => r()));
  }
}
