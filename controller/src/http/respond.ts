import type { Response } from 'express';

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Answers `value` as JSON with the bytes and headers `res.status(status).json(value)` would send,
 * without its detours: one `JSON.stringify`, the two headers set as they are, and the body handed to
 * Node as a string so that it goes out in one write with the head (Express turns a body of 1 000
 * characters or more into a Buffer, written after the head). Whatever Express would treat
 * specially (HEAD, a conditional GET, a status without a body, a type already set, ETags, the
 * `json spaces`/`json replacer`/`json escape` settings) still goes through `res.json`.
 */
export function sendJson(res: Response, status: number, value: unknown): void {
  const text = ordinary(res, status) ? JSON.stringify(value) : undefined;
  if (text === undefined) {
    res.status(status).json(value);
    return;
  }
  send(res, status, text);
}

/** {@link sendJson} of a body already encoded as JSON text (an idempotent request's stored answer). */
export function sendJsonText(res: Response, status: number, text: string): void {
  if (!ordinary(res, status)) {
    res.status(status).type('application/json').send(text);
    return;
  }
  send(res, status, text);
}

function send(res: Response, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', JSON_TYPE);
  res.setHeader('Content-Length', String(Buffer.byteLength(text)));
  res.end(text);
}

/** Whether `res.json` would send the body as it is, with nothing but its type and length added. */
function ordinary(res: Response, status: number): boolean {
  const req = res.req;
  if (req.method === 'HEAD' || status === 204 || status === 205 || status === 304 || status < 200) return false;
  // `req.fresh` (a 304) is only ever true for a request carrying one of these
  if (req.headers['if-none-match'] || req.headers['if-modified-since']) return false;
  if (res.hasHeader('content-type') || res.hasHeader('transfer-encoding') || res.hasHeader('etag')) return false;
  const app = res.app;
  return typeof app.get('etag fn') !== 'function' && !app.get('json replacer') && !app.get('json spaces') && !app.get('json escape');
}
