/**
 * How the dashboard's server talks to the controller API v1 for one request's staff session: the
 * request itself (cookie, the staff member's address and browser), a signed-out answer sent to the
 * login page, refusals as {@link ApiError}, answers checked against the protocol's schemas. The
 * resource calls built on it live beside this file; `../api.ts` puts them together.
 */
import { error, redirect, type RequestEvent } from '@sveltejs/kit';
import { z } from 'zod';
import { ErrorBody } from '@mtandao/protocol/api';
import { config } from '../config';
import { SESSION_COOKIE, clearSession, loginUrl } from './session';

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

/** What a request handler gives the client: its cookies, URL, request and the browser's address. */
export type Event = Pick<RequestEvent, 'cookies' | 'url' | 'request' | 'getClientAddress'>;
/** Query string parameters; empty values are left out. */
export type Query = Record<string, string | number | boolean | undefined | null>;
/** The input (before defaults) of a request schema. */
export type In<S extends z.ZodType> = z.input<S>;
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

/** The answer of a call that has nothing to say but that it worked. */
export const Ok = z.object({ ok: z.literal(true) });

/** `?a=1&b=x` from a {@link Query}, or '' when nothing is set. */
export const qs = (query: Query = {}): string => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
};

/** A path segment, escaped. */
export const enc = encodeURIComponent;

/** The controller's error body as an {@link ApiError} (a generic one when the body is not one). */
export async function parseError(res: Response): Promise<ApiError> {
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

/** The transport under {@link Controller}: one request's staff session, and the four ways to call. */
export class ControllerClient {
  constructor(protected readonly event: Event) {}

  get session(): string | undefined {
    return this.event.cookies.get(SESSION_COOKIE);
  }

  protected async send(method: string, path: string, body?: unknown, session = this.session): Promise<Response> {
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
}
