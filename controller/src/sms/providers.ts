/** What a provider reports for one message. */
export interface SmsResult {
  /** `sent` (accepted for delivery), `stored` (log provider) or `failed`. */
  status: 'sent' | 'stored' | 'failed';
  providerMessageId: string | null;
  /** The provider's own status text (Africa's Talking: "Success", "InvalidPhoneNumber" …). */
  providerStatus: string | null;
  cost: string | null;
  error: string | null;
  /** A failure worth trying again later (network, gateway, balance), not a bad number. */
  retryable?: boolean;
}

/** An SMS gateway. */
export interface SmsProvider {
  readonly name: string;
  send(to: string, body: string): Promise<SmsResult>;
}

/** Keeps messages in the outbox table only: the default until a gateway is configured. */
export class LogSmsProvider implements SmsProvider {
  readonly name = 'log';
  async send(): Promise<SmsResult> {
    return { status: 'stored', providerMessageId: null, providerStatus: 'Logged', cost: null, error: null };
  }
}

/** Africa's Talking per-recipient status codes that mean the message was accepted. */
const AT_ACCEPTED = new Set([100, 101, 102]);
/** Per-recipient failures that may pass later: InsufficientBalance, CouldNotRoute, InternalServerError, GatewayError. */
const AT_RETRYABLE = new Set([405, 407, 500, 501]);

/**
 * Africa's Talking bulk SMS: `POST {base}/version1/messaging` (form encoded: username, to, message,
 * from) with the `apiKey` header; 201 with `SMSMessageData.Recipients[]` per number.
 */
export class AfricasTalkingProvider implements SmsProvider {
  readonly name = 'africastalking';
  constructor(private readonly opts: { username: string; apiKey: string; senderId?: string | null; baseUrl?: string | null; timeoutMs?: number }) {}

  async send(to: string, body: string): Promise<SmsResult> {
    const base = this.opts.baseUrl ?? (this.opts.username === 'sandbox' ? 'https://api.sandbox.africastalking.com' : 'https://api.africastalking.com');
    const form = new URLSearchParams({ username: this.opts.username, to: `+${to}`, message: body });
    if (this.opts.senderId) form.set('from', this.opts.senderId);
    let res: Response;
    try {
      res = await fetch(new URL('/version1/messaging', base), {
        method: 'POST',
        headers: { apiKey: this.opts.apiKey, Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
        body: form,
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 15_000),
      });
    } catch (err) {
      return failed(`Africa's Talking could not be reached: ${(err as Error).message}`, true);
    }
    const text = await res.text();
    // 5xx and 401 (a key staff may fix) are worth another try; a 400 is not
    if (res.status !== 201 && res.status !== 200)
      return failed(`Africa's Talking answered ${res.status}: ${text.slice(0, 300)}`, res.status >= 500 || res.status === 401 || res.status === 429);
    let recipient: { statusCode?: number; status?: string; messageId?: string; cost?: string } | undefined;
    try {
      const json = JSON.parse(text) as { SMSMessageData?: { Message?: string; Recipients?: (typeof recipient)[] } };
      recipient = json.SMSMessageData?.Recipients?.[0];
      if (!recipient) return failed(`Africa's Talking did not send: ${json.SMSMessageData?.Message ?? 'no recipients in the answer'}`);
    } catch {
      return failed(`Africa's Talking answered something that is not JSON: ${text.slice(0, 200)}`);
    }
    const ok = typeof recipient.statusCode === 'number' && AT_ACCEPTED.has(recipient.statusCode);
    return {
      status: ok ? 'sent' : 'failed',
      providerMessageId: recipient.messageId && recipient.messageId !== 'None' ? recipient.messageId : null,
      providerStatus: recipient.status ?? null,
      cost: recipient.cost ?? null,
      error: ok ? null : `Africa's Talking rejected the message: ${recipient.status ?? 'unknown'} (${recipient.statusCode ?? '?'})`,
      retryable: !ok && typeof recipient.statusCode === 'number' && AT_RETRYABLE.has(recipient.statusCode),
    };
  }
}

function failed(error: string, retryable = false): SmsResult {
  return { status: 'failed', providerMessageId: null, providerStatus: null, cost: null, error, retryable };
}
