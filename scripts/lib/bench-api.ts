// What the benches ask the controller's API: a signed-in client, and the plan they add customers to.
type Body = Record<string, unknown>;

/** The API over fetch with the session cookie it signed in with; a status ≥ 300 throws. */
export class BenchApi {
  cookie = '';
  constructor(readonly base: string) {}
  /** The answer whatever its status (the cookie it sets is kept). */
  async call<T = Body>(method: string, p: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.base}/api/v1${p}`, {
      method,
      headers: { 'content-type': 'application/json', cookie: this.cookie },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const set = res.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0]!;
    return { status: res.status, body: (await res.json()) as T };
  }
  async ok<T = Body>(method: string, p: string, body?: unknown): Promise<T> {
    const r = await this.call<T>(method, p, body);
    if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }
}

/** A PPPoE plan of 1 500 a month at 10M/5M on one pool: the body of `POST /plans`. */
export const pppoePlanBody = (name: string, poolId: unknown): Body => ({
  name,
  connectionType: 'pppoe',
  price: '1500',
  downloadSpeed: '10M',
  uploadSpeed: '5M',
  validity: { count: 30, unit: 'days' },
  poolIds: [poolId],
});
