/**
 * The controller API v1 as the dashboard's server calls it: {@link Controller}, one per request,
 * with a group of calls per resource. The transport is `api/client.ts`, the session cookie
 * `api/session.ts`, and the calls are grouped by screen in `api/customers.ts`, `api/money.ts`,
 * `api/network.ts` and `api/admin.ts`. Import from here (`$lib/server/api`).
 */
import { z } from 'zod';
import { LoginRequest, Me } from '@mtandao/protocol/api';
import { auditApi, settingsApi, smsApi, usersApi } from './api/admin';
import { ApiError, ControllerClient, parseError, type In } from './api/client';
import { customersApi, importsApi, plansApi } from './api/customers';
import { mpesaApi, paymentsApi, reportsApi, vouchersApi } from './api/money';
import { adoptionApi, hotspotApi, jobsApi, networksApi, poolsApi, routersApi, sitesApi } from './api/network';
import { SESSION_COOKIE } from './api/session';

export { ApiError, type Draft } from './api/client';
export { SESSION_COOKIE, clearSession, loginUrl, setSession } from './api/session';
export type { CustomerQuery } from './api/customers';
export type { PaymentQuery } from './api/money';
export type { JobQuery } from './api/network';

/** Calls the controller API v1 on behalf of one request's staff session. */
export class Controller extends ControllerClient {
  imports = importsApi(this);
  adoption = adoptionApi(this);

  /** Signs in; answers the controller's session token and how long it lasts. */
  async login(body: In<typeof LoginRequest>): Promise<{ token: string; maxAge: number; user: Me }> {
    const res = await this.send('POST', '/auth/login', body, undefined);
    if (!res.ok) throw await parseError(res);
    const user = z.object({ user: Me }).parse(await res.json()).user;
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? '';
    const token = /^[^=]+=([^;]*)/.exec(cookie)?.[1];
    if (!token) throw new ApiError(502, 'The controller did not start a session', 'no_session');
    const maxAge = Number(/;\s*Max-Age=(\d+)/i.exec(cookie)?.[1] ?? 43_200);
    return { token, maxAge, user };
  }

  async logout(): Promise<void> {
    if (this.session) await this.send('POST', '/auth/logout').catch(() => undefined);
  }

  me = () => this.read('/auth/me', Me);

  sms = smsApi(this);
  settings = settingsApi(this);
  mpesa = mpesaApi(this);
  vouchers = vouchersApi(this);
  hotspot = hotspotApi(this);
  users = usersApi(this);
  sites = sitesApi(this);
  routers = routersApi(this);
  pools = poolsApi(this);
  networks = networksApi(this);
  plans = plansApi(this);
  customers = customersApi(this);
  audit = auditApi(this);
  reports = reportsApi(this);
  payments = paymentsApi(this);
  jobs = jobsApi(this);
}
