import { error, redirect, type RequestEvent } from '@sveltejs/kit';
import { z } from 'zod';
import {
  AvailableIps,
  ChangePlanRequest,
  CreateCustomerRequest,
  CreatePaymentRequest,
  CreatePlanRequest,
  CreatePoolRequest,
  CreateRouterRequest,
  CreateSiteRequest,
  CustomerView,
  EnrollmentTokenView,
  ErrorBody,
  ExtendRequest,
  JobView,
  LoginRequest,
  Me,
  NetworkView,
  PlanView,
  PoolView,
  RouterView,
  SettingsView,
  SiteView,
  SmsView,
  UpdateCustomerRequest,
  UpdatePlanRequest,
  UpdatePoolRequest,
  UpdateSettingsRequest,
  listOf,
  CreateUserRequest,
  UpdateUserRequest,
  UserView,
  type CustomerSort,
  AuditEntryView,
  CashUpView,
  OverviewView,
  RevenueView,
  BulkSmsPreview,
  BulkSmsPreviewRequest,
  BulkSmsRequest,
  BulkSmsResult,
  SmsTemplatesView,
  UpdateSmsTemplatesRequest,
  MpesaRegisterResult,
  MpesaSettingsView,
  MpesaTransactionView,
  StkView,
  UpdateMpesaSettingsRequest,
  AdoptionScanView,
  AdoptRequest,
  AdoptResult,
  ImportDryRun,
  ImportStatusView,
  PlanFromProfileRequest,
  AccountView,
  ActivateRequest,
  BillingSettingsView,
  LedgerEntryView,
  PaymentList,
  PaymentPreview,
  ReceiptView,
  ReverseRequest,
  CreateVoucherBatchRequest,
  HotspotSessionView,
  VoucherBatchView,
  VoucherSettings,
  VoucherView,
  type VoucherStatus,
} from '@mtandao/protocol/api';
import type { ConnectionType, CustomerStatus, JobStatus, PaymentMethod } from '@mtandao/protocol';
import { config } from './config';

/** The staff session cookie: the controller's token, kept by the dashboard for its own origin. */
export const SESSION_COOKIE = 'mtandao_session';

type Issue = { field: string; message: string };

/** A refusal of the controller, with the field it names (for forms to show beside that field). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
    readonly field?: string,
    readonly issues: Issue[] = [],
  ) {
    super(message);
  }
}

type Event = Pick<RequestEvent, 'cookies' | 'url' | 'request' | 'getClientAddress'>;
type Query = Record<string, string | number | boolean | undefined | null>;
type In<S extends z.ZodType> = z.input<S>;
/** A body assembled from a form: fields may be missing, and the controller names what is. */
export type Draft<T> = {
  [K in keyof T]?: unknown extends T[K]
    ? T[K]
    : NonNullable<T[K]> extends readonly unknown[]
      ? T[K]
      : NonNullable<T[K]> extends object
        ? Draft<NonNullable<T[K]>>
        : T[K];
};

type Cookies = RequestEvent['cookies'];

/** Keeps the controller's session token in the dashboard's own cookie. */
export function setSession(cookies: Cookies, url: URL, token: string, maxAge: number): void {
  cookies.set(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'strict', secure: url.protocol === 'https:', maxAge });
}

/** Forgets the session (a Secure attribute over plain http would make the browser ignore the deletion). */
export function clearSession(cookies: Cookies, url: URL): void {
  cookies.delete(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: url.protocol === 'https:' });
}

/** The login page, with the way back to where the user was (pages only, never a form post or a lookup). */
export function loginUrl(event: Pick<RequestEvent, 'url' | 'request'>): string {
  const { pathname, search } = event.url;
  const back = event.request.method === 'GET' && !pathname.startsWith('/lookup/') ? `${pathname}${search}` : '/';
  return back === '/' ? '/login' : `/login?next=${encodeURIComponent(back)}`;
}

const Ok = z.object({ ok: z.literal(true) });

const qs = (query: Query = {}): string => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
};

async function parseError(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const parsed = ErrorBody.safeParse(body);
  if (!parsed.success) return new ApiError(res.status, `The controller answered ${res.status}`, 'unknown');
  const e = parsed.data.error;
  return new ApiError(res.status, e.message, e.code, e.field, e.issues ?? []);
}

/** Calls the controller API v1 on behalf of one request's staff session. */
export class Controller {
  constructor(private readonly event: Event) {}

  get session(): string | undefined {
    return this.event.cookies.get(SESSION_COOKIE);
  }

  private async send(method: string, path: string, body?: unknown, session = this.session): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (session) headers.cookie = `${SESSION_COOKIE}=${session}`;
    // The controller trusts these from loopback: audits show the staff member's address and browser.
    headers['x-forwarded-for'] = this.event.getClientAddress();
    const ua = this.event.request.headers.get('user-agent');
    if (ua) headers['user-agent'] = ua;
    try {
      return await fetch(`${config.controllerUrl}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      console.error(`controller ${method} ${path}: ${(err as Error).message}`);
      error(503, 'The controller is not reachable. Try again in a moment.');
    }
  }

  /** Signed out (or the session expired): forget the cookie and go to the login page. */
  private toLogin(): never {
    clearSession(this.event.cookies, this.event.url);
    redirect(303, loginUrl(this.event));
  }

  /** A write (or a read an action makes): a refusal is thrown as {@link ApiError} for the form to show. */
  async call<S extends z.ZodType>(method: string, path: string, schema: S, body?: unknown): Promise<z.output<S>> {
    const res = await this.send(method, path, body);
    if (res.status === 401) this.toLogin();
    if (!res.ok) throw await parseError(res);
    return schema.parse(await res.json());
  }

  /** A read for a page: a refusal becomes the page's error (404, 403…). */
  async read<S extends z.ZodType>(path: string, schema: S): Promise<z.output<S>> {
    try {
      return await this.call('GET', path, schema);
    } catch (err) {
      if (err instanceof ApiError) error(err.status, err.message);
      throw err;
    }
  }

  /** A file the controller makes (CSV exports), passed through to the browser as it comes. */
  async download(path: string, query: Query = {}): Promise<Response> {
    const res = await this.send('GET', `${path}${qs(query)}`);
    if (res.status === 401) this.toLogin();
    if (!res.ok) {
      const e = await parseError(res);
      error(e.status, e.message);
    }
    const headers = new Headers({ 'content-type': res.headers.get('content-type') ?? 'text/csv', 'cache-control': 'no-store' });
    const disposition = res.headers.get('content-disposition');
    if (disposition) headers.set('content-disposition', disposition);
    return new Response(res.body, { status: 200, headers });
  }

  /** Uploads a form with a file (the CSV import): the browser's file passed on as it came. */
  async upload<S extends z.ZodType>(path: string, form: FormData, schema: S): Promise<z.output<S>> {
    const headers: Record<string, string> = { accept: 'application/json', 'x-forwarded-for': this.event.getClientAddress() };
    if (this.session) headers.cookie = `${SESSION_COOKIE}=${this.session}`;
    let res: Response;
    try {
      res = await fetch(`${config.controllerUrl}/api/v1${path}`, { method: 'POST', headers, body: form });
    } catch (err) {
      console.error(`controller POST ${path}: ${(err as Error).message}`);
      error(503, 'The controller is not reachable. Try again in a moment.');
    }
    if (res.status === 401) this.toLogin();
    if (!res.ok) throw await parseError(res);
    return schema.parse(await res.json());
  }

  imports = {
    upload: (form: FormData) => this.upload('/imports/customers', form, ImportDryRun),
    commit: (id: string) => this.call('POST', `/imports/${enc(id)}/commit`, ImportStatusView),
    status: (id: string) => this.call('GET', `/imports/${enc(id)}`, ImportStatusView),
  };

  adoption = {
    scan: (routerId: string) => this.call('POST', `/routers/${enc(routerId)}/adoption-scan`, AdoptionScanView),
    /** The latest scan, or null before the first. */
    latest: async (routerId: string) => {
      try {
        return await this.call('GET', `/routers/${enc(routerId)}/adoption-scan`, AdoptionScanView);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404 && /not been scanned/.test(err.message)) return null;
        if (err instanceof ApiError) error(err.status, err.message);
        throw err;
      }
    },
    adopt: (routerId: string, body: In<typeof AdoptRequest>) => this.call('POST', `/routers/${enc(routerId)}/adopt`, AdoptResult, body),
    planFromProfile: (routerId: string, body: In<typeof PlanFromProfileRequest>) =>
      this.call('POST', `/routers/${enc(routerId)}/adoption-scan/plans`, PlanView, body),
  };

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

  sms = {
    templates: () => this.read('/settings/sms-templates', SmsTemplatesView),
    updateTemplates: (body: In<typeof UpdateSmsTemplatesRequest>) => this.call('PUT', '/settings/sms-templates', SmsTemplatesView, body),
    bulkPreview: (body: In<typeof BulkSmsPreviewRequest>) => this.call('POST', '/sms/bulk/preview', BulkSmsPreview, body),
    bulkSend: (body: In<typeof BulkSmsRequest>) => this.call('POST', '/sms/bulk', BulkSmsResult, body),
  };

  settings = {
    get: () => this.read('/settings', SettingsView),
    update: (body: In<typeof UpdateSettingsRequest>) => this.call('PATCH', '/settings', SettingsView, body),
    billing: () => this.read('/settings/billing', BillingSettingsView),
  };

  mpesa = {
    settings: () => this.read('/settings/mpesa', MpesaSettingsView),
    updateSettings: (body: In<typeof UpdateMpesaSettingsRequest>) => this.call('PATCH', '/settings/mpesa', MpesaSettingsView, body),
    registerUrls: () => this.call('POST', '/settings/mpesa/register-urls', MpesaRegisterResult),
    regenerateToken: () => this.call('POST', '/settings/mpesa/regenerate-token', MpesaSettingsView),
    unmatched: (query: { page?: number; pageSize?: number }) => this.read(`/mpesa/unmatched${qs(query)}`, listOf(MpesaTransactionView)),
    assign: (id: string, customerId: string) => this.call('POST', `/mpesa/unmatched/${enc(id)}/assign`, MpesaTransactionView, { customerId }),
    stkPush: (customerId: string, body: { amount?: string; phone?: string }) =>
      this.call('POST', `/customers/${enc(customerId)}/stk-push`, StkView.extend({ customerMessage: z.string().nullable() }), body),
    stkPushes: (customerId: string) => this.read(`/customers/${enc(customerId)}/stk-pushes`, listOf(StkView)),
    stk: (checkoutRequestId: string) => this.read(`/mpesa/stk/${enc(checkoutRequestId)}`, StkView),
  };

  vouchers = {
    batches: (query: { page?: number; pageSize?: number } = {}) => this.read(`/vouchers/batches${qs(query)}`, listOf(VoucherBatchView)),
    createBatch: (body: Draft<In<typeof CreateVoucherBatchRequest>>) =>
      this.call('POST', '/vouchers/batches', VoucherBatchView.extend({ jobs: z.number() }), body),
    list: (query: { batchId?: string; status?: VoucherStatus; search?: string; page?: number; pageSize?: number }) =>
      this.read(`/vouchers${qs(query)}`, listOf(VoucherView)),
    revoke: (id: string) => this.call('POST', `/vouchers/${enc(id)}/revoke`, VoucherView),
    settings: () => this.read('/settings/vouchers', VoucherSettings),
    print: (batchId: string, format?: 'csv', page?: string) => this.download(`/vouchers/batches/${enc(batchId)}/print`, { format, page }),
  };

  hotspot = {
    active: (routerId: string) => this.read(`/routers/${enc(routerId)}/hotspot/active`, listOf(HotspotSessionView)),
    refresh: (routerId: string) => this.call('POST', `/routers/${enc(routerId)}/hotspot/refresh`, JobView),
  };

  users = {
    list: () => this.read('/users', listOf(UserView)),
    create: (body: Draft<In<typeof CreateUserRequest>>) => this.call('POST', '/users', UserView, body),
    update: (id: string, body: In<typeof UpdateUserRequest>) => this.call('PATCH', `/users/${enc(id)}`, UserView, body),
    remove: (id: string) => this.call('DELETE', `/users/${enc(id)}`, Ok),
  };

  sites = {
    list: () => this.read('/sites', listOf(SiteView)),
    create: (body: In<typeof CreateSiteRequest>) => this.call('POST', '/sites', SiteView, body),
    enrollmentToken: (siteId: string) => this.call('POST', `/sites/${enc(siteId)}/enrollment-tokens`, EnrollmentTokenView),
    retireAgent: (siteId: string) => this.call('DELETE', `/sites/${enc(siteId)}/agent`, Ok),
  };

  routers = {
    list: () => this.read('/routers', listOf(RouterView)),
    create: (body: In<typeof CreateRouterRequest>) => this.call('POST', '/routers', RouterView, body),
    reconcile: (id: string) => this.call('POST', `/routers/${enc(id)}/reconcile`, JobView),
  };

  pools = {
    list: () => this.read('/pools', listOf(PoolView)),
    get: (id: string) => this.read(`/pools/${enc(id)}`, PoolView),
    create: (body: In<typeof CreatePoolRequest>) => this.call('POST', '/pools', PoolView, body),
    update: (id: string, body: In<typeof UpdatePoolRequest>) => this.call('PATCH', `/pools/${enc(id)}`, PoolView, body),
  };

  networks = {
    availableIps: (id: string, query: { prefix?: string; limit?: number }) => this.read(`/networks/${enc(id)}/available-ips${qs(query)}`, AvailableIps),
  };

  plans = {
    list: (query: { connectionType?: ConnectionType } = {}) => this.read(`/plans${qs(query)}`, listOf(PlanView)),
    get: (id: string) => this.read(`/plans/${enc(id)}`, PlanView),
    networks: (id: string) => this.read(`/plans/${enc(id)}/networks`, listOf(NetworkView)),
    create: (body: Draft<In<typeof CreatePlanRequest>>) => this.call('POST', '/plans', PlanView, body),
    update: (id: string, body: Draft<In<typeof UpdatePlanRequest>>) => this.call('PATCH', `/plans/${enc(id)}`, PlanView, body),
    setArchived: (id: string, archived: boolean) => this.call('POST', `/plans/${enc(id)}/${archived ? 'archive' : 'unarchive'}`, PlanView),
    remove: (id: string) => this.call('DELETE', `/plans/${enc(id)}`, Ok),
  };

  customers = {
    list: (query: CustomerQuery) => this.read(`/customers${qs(query)}`, listOf(CustomerView)),
    get: (id: string) => this.read(`/customers/${enc(id)}`, CustomerView),
    generateUsername: (query: { name?: string; phone?: string }) => this.read(`/customers/generate-username${qs(query)}`, z.object({ username: z.string() })),
    generateAccountNumber: () => this.read('/customers/generate-account-number', z.object({ accountNumber: z.string() })),
    create: (body: Draft<In<typeof CreateCustomerRequest>>) => this.call('POST', '/customers', CustomerView, body),
    update: (id: string, body: In<typeof UpdateCustomerRequest>) => this.call('PATCH', `/customers/${enc(id)}`, CustomerView, body),
    remove: (id: string) => this.call('DELETE', `/customers/${enc(id)}`, Ok),
    revealPassword: (id: string) => this.call('GET', `/customers/${enc(id)}/password`, z.object({ password: z.string() })),
    payments: (id: string) => this.read(`/customers/${enc(id)}/payments`, listOf(LedgerEntryView)),
    addPayment: (id: string, body: In<typeof CreatePaymentRequest>) =>
      this.call(
        'POST',
        `/customers/${enc(id)}/payments`,
        z.object({ payment: LedgerEntryView, customer: CustomerView, periods: z.number().int(), message: z.string() }),
        body,
      ),
    account: (id: string) => this.read(`/customers/${enc(id)}/account`, AccountView),
    paymentPreview: (id: string, amount: string) => this.call('GET', `/customers/${enc(id)}/payment-preview${qs({ amount })}`, PaymentPreview),
    activate: (id: string, body: In<typeof ActivateRequest>) => this.call('POST', `/customers/${enc(id)}/activate`, CustomerView, body),
    sms: (id: string) => this.read(`/customers/${enc(id)}/sms${qs({ pageSize: 100 })}`, listOf(SmsView)),
    sendPaymentDetails: (id: string) => this.call('POST', `/customers/${enc(id)}/send-payment-details`, SmsView),
    lifecycle: (id: string, action: 'suspend' | 'unsuspend' | 'disconnect') => this.call('POST', `/customers/${enc(id)}/${action}`, CustomerView),
    extend: (id: string, body: In<typeof ExtendRequest>) => this.call('POST', `/customers/${enc(id)}/extend`, CustomerView, body),
    changePlan: (id: string, body: In<typeof ChangePlanRequest>) => this.call('POST', `/customers/${enc(id)}/change-plan`, CustomerView, body),
  };

  audit = {
    list: (query: { actor?: string; entity?: string; entityId?: string; action?: string; from?: string; to?: string; page?: number; pageSize?: number }) =>
      this.read(`/audit${qs(query)}`, listOf(AuditEntryView)),
  };

  reports = {
    overview: () => this.read('/reports/overview', OverviewView),
    revenue: (query: { from?: string; to?: string; groupBy?: string }) => this.read(`/reports/revenue${qs(query)}`, RevenueView),
    cashUp: (query: { date?: string; staffId?: string }) => this.read(`/reports/cash-up${qs(query)}`, CashUpView),
  };

  payments = {
    list: (query: PaymentQuery) => this.read(`/payments${qs(query)}`, PaymentList),
    csv: (query: PaymentQuery) => this.download(`/payments${qs({ ...query, page: undefined, pageSize: undefined, format: 'csv' })}`),
    receipt: (id: string) => this.read(`/payments/${enc(id)}/receipt`, ReceiptView),
    reverse: (id: string, body: In<typeof ReverseRequest>) => this.call('POST', `/payments/${enc(id)}/reverse`, LedgerEntryView, body),
  };

  jobs = {
    list: (query: JobQuery) => this.read(`/provisioning/jobs${qs(query)}`, listOf(JobView)),
    get: (id: string) => this.read(`/provisioning/jobs/${enc(id)}`, JobView),
  };
}

/** Filters and order of the customer list (and of its export). */
export type CustomerQuery = {
  search?: string;
  status?: CustomerStatus;
  planId?: string;
  siteId?: string;
  routerId?: string;
  expiringWithinDays?: number;
  owing?: boolean;
  sort?: CustomerSort;
  order?: 'asc' | 'desc';
  page?: number;
  pageSize?: number;
};

/** Filters of the payments list. */
export type PaymentQuery = {
  from?: string;
  to?: string;
  method?: PaymentMethod;
  staffId?: string;
  customerId?: string;
  page?: number;
  pageSize?: number;
};

/** Filters of the provisioning log. */
export type JobQuery = {
  customerId?: string;
  customerUsername?: string;
  routerId?: string;
  siteId?: string;
  status?: JobStatus;
  since?: string;
  until?: string;
  afterId?: string;
  page?: number;
  pageSize?: number;
};

const enc = encodeURIComponent;
