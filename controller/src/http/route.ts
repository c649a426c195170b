import type { Role } from '@mtandao/protocol';
import type { z } from 'zod';
import type { Logger } from '../logger.ts';
import type { RawUpload } from './file-upload.ts';

/**
 * Who may call a route. Deny by default: every route must name one.
 * - `public`: no login (login itself, health, agent enrolment)
 * - `read`: any signed-in role, `noc` included
 * - `write`: `admin` and `staff` (every state-changing route; `noc` gets 403)
 * - `reveal`: `admin` and `staff` reading a secret (audited)
 * - `admin`: `admin` only
 */
export type Access = 'public' | 'read' | 'write' | 'reveal' | 'admin';

/** Roles allowed by each access level. */
export const ROLES_BY_ACCESS: Record<Access, readonly Role[] | 'anyone'> = {
  public: 'anyone',
  read: ['admin', 'staff', 'noc'],
  write: ['admin', 'staff'],
  reveal: ['admin', 'staff'],
  admin: ['admin'],
};

/** The signed-in caller. */
export interface Actor {
  userId: string;
  username: string;
  role: Role;
  via: 'session' | 'token';
  sessionId?: string;
}

/** What a handler gets: validated input and the request's context, never `req`/`res`. */
export interface RouteContext<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  actor: Actor | undefined;
  requestId: string;
  ip: string | undefined;
  userAgent: string | undefined;
  /** The raw session cookie (login rotation and logout need it). */
  sessionToken: string | undefined;
  log: Logger;
  /** The raw body of a file upload route (see `http/file-upload.ts`); undefined elsewhere. */
  upload?: RawUpload | undefined;
}

/** Meta about the request, passed to services for the audit log. */
export interface RequestMeta {
  actor: Actor;
  requestId: string;
  ip: string | undefined;
}

/** A file download (CSV export): its text, type and the name the browser saves it under. */
export class FileResult {
  constructor(
    readonly text: string | Buffer,
    readonly contentType: string,
    readonly filename: string,
  ) {}
}

/** A response with a status or cookies, for the few handlers that need more than a JSON body. */
export class HttpResult {
  constructor(
    readonly body: unknown,
    readonly options: {
      status?: number;
      setSession?: { token: string; maxAgeMs: number };
      clearSession?: boolean;
      /** send `body` (a string) as this content type instead of JSON */ contentType?: string;
      filename?: string;
    } = {},
  ) {}
}

/** One route of the API; the table of them drives Express, OpenAPI and the role-matrix test. */
export interface RouteDef<B extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, P extends z.ZodType = z.ZodType> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express path below /api/v1, e.g. `/customers/:id`. */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  body?: B;
  query?: Q;
  params?: P;
  response?: z.ZodType;
  /** Status of a success (200 unless said). */
  status?: number;
  /**
   * Whether an `Idempotency-Key` header is honoured. Every signed-in POST honours it unless this
   * says `false` (routes whose answer holds a secret shown once: it is not kept for a replay).
   * `'reserve'`: for handlers that wait on another service (Daraja): the key is claimed and
   * committed first, the handler runs outside that transaction, and its answer is stored after —
   * no database connection is held across the remote call.
   */
  idempotent?: boolean | 'reserve';
  handler: (ctx: RouteContext<z.output<B>, z.output<Q>, z.output<P>>) => Promise<unknown>;
}

/** Whether a route honours `Idempotency-Key`. */
export function isIdempotent(def: RouteDef): boolean {
  return def.method === 'post' && def.access !== 'public' && def.idempotent !== false;
}

/** Declares a route with its input types inferred from its schemas. */
export function route<B extends z.ZodType = z.ZodUnknown, Q extends z.ZodType = z.ZodUnknown, P extends z.ZodType = z.ZodUnknown>(
  def: RouteDef<B, Q, P>,
): RouteDef {
  return def as unknown as RouteDef;
}
