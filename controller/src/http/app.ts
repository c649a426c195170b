import express, { type Request, type RequestHandler, type Response, type NextFunction } from 'express';
import type { Services } from '../container.ts';
import { AppError } from '../errors.ts';
import { apiRoutes } from '../routes/index.ts';
import { buildOpenApi } from './openapi.ts';
import { fileUpload, type RawUpload } from './file-upload.ts';
import { mpesaCallbacks } from './mpesa-callbacks.ts';
import { portalRouter } from './portal.ts';
import { apiShortcut } from './api-shortcut.ts';
import { jsonBody } from './json-body.ts';
import { errorHandler, requestContext, validationError } from './middleware.ts';
import { sendJson, sendJsonText } from './respond.ts';
import { StaticRoutes } from './static-routes.ts';
import { FileResult, HttpResult, ROLES_BY_ACCESS, isIdempotent, type Actor, type RouteDef } from './route.ts';

/** The one error handler, also called straight from a route's handler (see `mount`). */
const answerError = errorHandler();

/** Name of the staff session cookie. */
export const SESSION_COOKIE = 'mtandao_session';
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      const v = part.slice(i + 1).trim();
      return /^[\w-]{20,100}$/.test(v) ? v : undefined;
    }
  }
  return undefined;
}

function sessionCookie(token: string, maxAgeMs: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(maxAgeMs / 1000)}${secure ? '; Secure' : ''}`;
}

/** Express app serving API v1, the OpenAPI document and health checks. */
export function createApp(s: Services, options: { ready?: () => Promise<void> } = {}) {
  const app = express();
  app.disable('x-powered-by');
  // every answer is `cache-control: no-store`: an ETag (a SHA-1 of each body) would never be used
  app.set('etag', false);
  app.set('trust proxy', 'loopback');
  app.use(requestContext(s.logger));
  app.use((_req, res, next) => {
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('cache-control', 'no-store');
    next();
  });

  // Cross-site requests are refused on every state-changing route (SameSite cookies are the first
  // line, this is the second): a browser always sends Origin on a cross-origin POST.
  const refuseCrossSite: RequestHandler = (req, _res, next) => {
    if (!STATE_CHANGING.has(req.method)) return next();
    const origin = req.get('origin');
    const site = req.get('sec-fetch-site');
    if ((origin && origin !== 'null' && !s.config.allowedOrigins.includes(origin)) || origin === 'null' || site === 'cross-site') {
      return next(new AppError(403, 'Cross-origin request refused'));
    }
    next();
  };
  const parseJson = jsonBody();
  const statics = new StaticRoutes();
  // the API's static routes (POST /customers among them) skip Express's walk to them; the same
  // chain runs (see http/api-shortcut.ts): every path mounted below /api/v1 ahead of the routes is left to Express
  app.use(
    apiShortcut({
      mount: '/api/v1',
      statics,
      chain: [refuseCrossSite, parseJson],
      passOver: ['/callbacks', '/mpesa', '/imports/customers', '/sms/delivery-report'],
      onError: answerError,
    }),
  );

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (req, res) => {
    try {
      await s.db.rows('SELECT 1');
      if (options.ready) await options.ready();
      res.json({ status: 'ready', database: 'ok' });
    } catch (err) {
      const starting = (err as Error).message === 'still starting';
      if (!starting) req.log.warn({ err }, 'not ready');
      res.status(503).json(starting ? { status: 'starting' } : { status: 'unavailable', database: 'unreachable' });
    }
  });

  // Daraja's callbacks: public, before the Origin check and the JSON parser of the API
  // Daraja refuses callback URLs naming M-Pesa or Safaricom: they are registered under /callbacks;
  // /mpesa stays as an alias for URLs registered by earlier versions
  const callbacks = mpesaCallbacks(s);
  app.use('/api/v1/callbacks', callbacks);
  app.use('/api/v1/mpesa', callbacks);
  app.use('/portal', portalRouter(s));

  const api = express.Router();
  api.use(refuseCrossSite);
  // a CSV import's file comes as the body itself or as a multipart form
  api.use('/imports/customers', fileUpload());
  api.use(parseJson);
  // Africa's Talking posts delivery reports form-encoded; no other route takes forms
  api.use('/sms/delivery-report', express.urlencoded({ extended: false, limit: '64kb' }));

  const routes = apiRoutes(s);
  api.use(statics.middleware());
  for (const def of routes) statics.add(def.method, def.path, mount(api, s, def));
  const openapi = buildOpenApi(routes, s.config.publicUrl);
  api.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  api.use((_req, _res, next) => next(new AppError(404, 'No such API route')));
  app.use('/api/v1', api);
  app.use((_req: Request, _res: Response, next: NextFunction) => next(new AppError(404, 'Not found')));
  app.use(answerError);
  return { app, routes };
}

async function resolveActor(s: Services, req: Request): Promise<{ actor?: Actor; sessionToken?: string }> {
  const auth = req.get('authorization');
  if (auth) {
    const m = /^Bearer\s+(\S{10,200})$/i.exec(auth);
    if (!m) throw new AppError(401, 'Authorization header must be "Bearer <token>"');
    const actor = await s.auth.actorFromToken(m[1]!);
    if (!actor) throw new AppError(401, 'API token is invalid, expired or revoked');
    return { actor };
  }
  const sessionToken = readCookie(req, SESSION_COOKIE);
  if (!sessionToken) return {};
  const actor = await s.auth.actorFromSession(sessionToken);
  return actor ? { actor, sessionToken } : { sessionToken };
}

/** The path of the first string holding a NUL byte: PostgreSQL text cannot store one. */
function findNul(value: unknown, path: string[] = []): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path.join('.') || 'body' : undefined;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const hit = findNul(v, [...path, String(i)]);
      if (hit) return hit;
    }
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const hit = findNul(k, [...path, k]) ?? findNul(v, [...path, k]);
      if (hit) return hit;
    }
  }
  return undefined;
}

/** Whether any string (a key or a value) holds a NUL byte: the walk of every request, building no paths. */
function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) {
    for (const v of value) if (hasNul(v)) return true;
  } else if (value && typeof value === 'object') {
    for (const k in value) if (Object.hasOwn(value, k) && (k.includes('\u0000') || hasNul((value as Record<string, unknown>)[k]))) return true;
  }
  return false;
}

function rejectNul(value: unknown): void {
  if (!hasNul(value)) return;
  const field = findNul(value);
  if (field) throw new AppError(422, 'Text must not contain NUL characters', { field, issues: [{ field, message: 'Text must not contain NUL characters' }] });
}

function mount(router: express.Router, s: Services, def: RouteDef) {
  const allowed = ROLES_BY_ACCESS[def.access];
  if (!allowed) throw new Error(`route ${def.method} ${def.path} has no access level`);
  const handler = async (req: Request, res: Response, next: NextFunction) => {
    try {
      const { actor, sessionToken } = await resolveActor(s, req);
      if (allowed !== 'anyone') {
        if (!actor) throw new AppError(401, 'Sign in first');
        if (!allowed.includes(actor.role)) throw new AppError(403, `Your role (${actor.role}) may not do this`);
      }
      rejectNul(req.query);
      rejectNul(req.body);
      const params = def.params ? def.params.safeParse(req.params) : { success: true as const, data: req.params };
      if (!params.success) throw validationError(params.error, 'params');
      const query = def.query ? def.query.safeParse(req.query) : { success: true as const, data: req.query };
      if (!query.success) throw validationError(query.error, 'query');
      let body: unknown = undefined;
      if (def.body) {
        const raw = req.body === undefined ? {} : req.body;
        if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new AppError(422, 'Request body must be a JSON object', { field: 'body' });
        const parsed = def.body.safeParse(raw);
        if (!parsed.success) throw validationError(parsed.error, 'body');
        body = parsed.data;
        // a PATCH that changes nothing is a mistake worth telling, not a silent 200
        if ((def.method === 'patch' || def.method === 'put') && Object.values(body as object).every((v) => v === undefined))
          throw new AppError(422, 'Nothing to change', { field: 'body' });
      }
      const call = () =>
        def.handler({
          body,
          query: query.data,
          params: params.data,
          actor,
          requestId: req.requestId,
          ip: req.ip,
          userAgent: req.get('user-agent'),
          sessionToken,
          get log() {
            return req.log;
          },
          upload: (req as Request & { rawUpload?: RawUpload }).rawUpload,
        });
      const key = req.get('idempotency-key');
      if (key !== undefined && actor && isIdempotent(def)) {
        const request = { userId: actor.userId, key, request: `${req.method} ${req.baseUrl}${req.path}`, body: req.body };
        const work = async () => {
          const out = await call();
          return out instanceof HttpResult ? { status: out.options.status ?? def.status ?? 200, body: out.body } : { status: def.status ?? 200, body: out };
        };
        const answer = def.idempotent === 'reserve' ? await s.idempotency.reserveAndRun(request, work) : await s.idempotency.run(request, work);
        if (answer.replayed) res.setHeader('idempotent-replayed', 'true');
        sendJsonText(res, answer.status, answer.body);
        return;
      }
      const out = await call();
      if (out instanceof FileResult) {
        res
          .status(def.status ?? 200)
          .type(out.contentType)
          .attachment(out.filename)
          .send(out.text);
      } else if (out instanceof HttpResult) {
        if (out.options.setSession)
          res.append('set-cookie', sessionCookie(out.options.setSession.token, out.options.setSession.maxAgeMs, s.config.cookieSecure));
        if (out.options.clearSession) res.append('set-cookie', sessionCookie('', 0, s.config.cookieSecure));
        res.status(out.options.status ?? def.status ?? 200);
        if (out.options.filename) res.attachment(out.options.filename);
        if (out.options.contentType) res.type(out.options.contentType).send(String(out.body));
        else sendJson(res, res.statusCode, out.body);
      } else {
        sendJson(res, def.status ?? 200, out);
      }
    } catch (err) {
      // answered here rather than through next(err): Express would try every later layer of the
      // API router (one path match each) and leave two routers by setImmediate to reach the same
      // error handler, the only one after the routes
      answerError(err, req, res, next);
    }
  };
  router[def.method](def.path, handler);
  return handler;
}
