import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { AppError, type FieldIssue } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { sendJson } from './respond.ts';

declare module 'express-serve-static-core' {
  interface Request {
    requestId: string;
    log: Logger;
  }
}

/** Request id from `x-request-id` (when sane) or a new one; echoed back; a child logger carries it. */
export function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    req.requestId = incoming && /^[\w.-]{8,64}$/.test(incoming) ? incoming : randomUUID();
    res.setHeader('x-request-id', req.requestId);
    // the child logger is made the first time a line is written: most requests write none
    let log: Logger | undefined;
    Object.defineProperty(req, 'log', { configurable: true, enumerable: true, get: () => (log ??= logger.child({ requestId: req.requestId })) });
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const level = res.statusCode >= 500 && req.path !== '/readyz' ? 'error' : res.statusCode >= 400 ? 'info' : 'debug';
      if (!logger.isLevelEnabled(level)) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      req.log[level]({ method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };
}

/** Turns zod issues into field issues, the first one leading. */
export function zodIssues(error: z.ZodError, prefix: string[] = []): FieldIssue[] {
  return error.issues.map((issue) => ({
    field: [...prefix, ...issue.path.map(String)].join('.') || prefix.join('.') || 'body',
    message: issue.message,
  }));
}

/** A 422 from a zod error. */
export function validationError(error: z.ZodError, where: 'body' | 'query' | 'params'): AppError {
  const issues = zodIssues(error);
  const first = issues[0] ?? { field: where, message: 'Invalid input' };
  const status = where === 'params' ? 404 : 422;
  if (status === 404) return new AppError(404, 'Not found');
  return new AppError(422, first.message, { field: first.field, issues });
}

/** Deepest nesting of arrays and objects a JSON body may have; the API's deepest schema needs 4. */
export const MAX_JSON_DEPTH = 32;
const TOO_DEEP = 'entity.too.deep';

/**
 * Refuses a JSON body nested deeper than {@link MAX_JSON_DEPTH} before it is parsed: the parser and
 * every walk over the value recurse, and 100 000 `[` would overflow the stack (a 500). One pass
 * over the bytes, no recursion; brackets inside strings do not count.
 */
export function checkJsonDepth(buf: Buffer): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_JSON_DEPTH) throw Object.assign(new Error('JSON nested too deeply'), { type: TOO_DEEP, status: 400 });
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}

/** The one error handler: known errors keep their shape, anything else is a plain 500 with the request id. */
export function errorHandler(): ErrorRequestHandler {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const requestId = req.requestId ?? 'unknown';
    let appErr: AppError;
    if (err instanceof AppError) appErr = err;
    else if (isBodyParserError(err)) {
      appErr =
        err.type === 'entity.too.large'
          ? new AppError(413 as number, 'Request body is too large', { code: 'bad_request' })
          : err.type === TOO_DEEP
            ? new AppError(400, `Request body is nested too deeply (at most ${MAX_JSON_DEPTH} levels)`, { field: 'body' })
            : new AppError(400, 'Request body is not valid JSON');
    } else if (err instanceof URIError) {
      // Express's router could not decode a path parameter (a malformed percent-escape)
      appErr = new AppError(400, 'The address holds a malformed percent-escape (%XX)', { field: 'params' });
    } else {
      (req.log ?? console).error({ err }, 'unhandled error');
      appErr = new AppError(500, 'Internal error', { code: 'internal' });
    }
    if (res.headersSent) return;
    const body: Record<string, unknown> = { message: appErr.message, code: appErr.code };
    if (appErr.field) body.field = appErr.field;
    if (appErr.issues) body.issues = appErr.issues;
    if (appErr.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(Math.max(1, Math.ceil(appErr.retryAfterSeconds))));
    sendJson(res, appErr.status === 413 ? 400 : appErr.status, { error: body, requestId });
  };
}

/**
 * An error of body-parser: it names a `type`, except for a stream's own error (a gzip body that is
 * not gzip), which it passes on as a 400 marked `expose` (that was a 500 here).
 */
function isBodyParserError(err: unknown): err is { type?: string; status: number } {
  if (typeof err !== 'object' || err === null || !('status' in err)) return false;
  const e = err as { type?: unknown; status: unknown; expose?: unknown };
  return typeof e.type === 'string' || (e.status === 400 && e.expose === true);
}
