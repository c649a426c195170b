/** Daraja's base URLs by environment. */
export const DARAJA_URLS = { sandbox: 'https://sandbox.safaricom.co.ke', production: 'https://api.safaricom.co.ke' } as const;

/** What a Daraja call needs: where, and the app's credentials. */
export interface DarajaCredentials {
  baseUrl: string;
  consumerKey: string;
  consumerSecret: string;
}

/** Daraja said no (or could not be reached): its answer is kept whole so staff can read it. */
export class DarajaError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly answer: unknown,
  ) {
    super(message);
    this.name = 'DarajaError';
  }
}

/** Daraja's error body: `{requestId, errorCode, errorMessage}`. */
function describe(status: number, answer: unknown): string {
  const a = answer as { errorCode?: unknown; errorMessage?: unknown; ResponseDescription?: unknown } | undefined;
  if (a && typeof a === 'object') {
    if (a.errorMessage) return `${a.errorCode ? `${String(a.errorCode)} ` : ''}${String(a.errorMessage)}`;
    if (a.ResponseDescription) return String(a.ResponseDescription);
  }
  return typeof answer === 'string' && answer ? `HTTP ${status}: ${answer.slice(0, 200)}` : `HTTP ${status}`;
}

/** YYYYMMDDHHmmss in Kenya's time (Daraja's Timestamp and TransTime are EAT, UTC+3). */
export function darajaTimestamp(at = new Date()): string {
  return new Date(at.getTime() + 3 * 3_600_000).toISOString().replace(/\D/g, '').slice(0, 14);
}

/** STK Password: base64(shortcode + passkey + timestamp). */
export const stkPassword = (shortcode: string, passkey: string, timestamp: string): string =>
  Buffer.from(`${shortcode}${passkey}${timestamp}`).toString('base64');

interface CachedToken {
  key: string;
  token: string;
  expiresAt: number;
}

/**
 * A small Daraja client: OAuth token cached until shortly before it expires (Daraja gives 3599 s),
 * JSON calls with the bearer token; non-2xx answers become DarajaError with the body kept.
 */
export class DarajaClient {
  #cached: CachedToken | undefined;
  /** Tokens fetched, for the cache test and the logs. */
  tokensFetched = 0;

  constructor(private readonly options: { timeoutMs?: number; refreshEarlyMs?: number; fetch?: typeof fetch } = {}) {}

  /** Forgets the cached token (new credentials, or Daraja refused it). */
  forget(): void {
    this.#cached = undefined;
  }

  private async request(url: string, init: RequestInit): Promise<{ status: number; body: unknown }> {
    const f = this.options.fetch ?? fetch;
    let res: Response;
    try {
      res = await f(url, { ...init, signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000) });
    } catch (err) {
      const reason =
        (err as Error).name === 'TimeoutError' ? 'no answer in time' : ((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message);
      throw new DarajaError(`M-Pesa (Daraja) could not be reached: ${reason}`, 0, null);
    }
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // Daraja answers some errors (gateway, throttling) with HTML or plain text
    }
    return { status: res.status, body };
  }

  /** An access token, from the cache while it has more than `refreshEarlyMs` left. */
  async token(c: DarajaCredentials): Promise<string> {
    const key = `${c.baseUrl}|${c.consumerKey}|${c.consumerSecret}`;
    const early = this.options.refreshEarlyMs ?? 300_000;
    if (this.#cached && this.#cached.key === key && this.#cached.expiresAt - early > Date.now()) return this.#cached.token;
    const basic = Buffer.from(`${c.consumerKey}:${c.consumerSecret}`).toString('base64');
    const { status, body } = await this.request(`${c.baseUrl}/oauth/v1/generate?grant_type=client_credentials`, {
      method: 'GET',
      headers: { authorization: `Basic ${basic}` },
    });
    const b = body as { access_token?: unknown; expires_in?: unknown } | null;
    if (status !== 200 || !b || typeof b.access_token !== 'string')
      throw new DarajaError(`M-Pesa refused the consumer key and secret: ${describe(status, body)}`, status, body);
    this.tokensFetched++;
    const seconds = Number(b.expires_in) > 0 ? Number(b.expires_in) : 3599;
    this.#cached = { key, token: b.access_token, expiresAt: Date.now() + seconds * 1000 };
    return b.access_token;
  }

  /** POSTs JSON with the bearer token; retries once with a fresh token when Daraja calls it invalid. */
  async post(c: DarajaCredentials, path: string, payload: Record<string, unknown>, what: string): Promise<Record<string, unknown>> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.token(c);
      const { status, body } = await this.request(`${c.baseUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(payload),
      });
      // 404.001.03 "Invalid Access Token": revoked or expired early on Daraja's side
      if (status === 401 || (body as { errorCode?: string } | null)?.errorCode === '404.001.03') {
        this.forget();
        if (attempt === 0) continue;
      }
      if (status < 200 || status >= 300 || typeof body !== 'object' || body === null)
        throw new DarajaError(`${what}: M-Pesa answered ${describe(status, body)}`, status, body);
      return body as Record<string, unknown>;
    }
  }
}
