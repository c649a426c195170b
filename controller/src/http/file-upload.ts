import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { MAX_IMPORT_BYTES } from '../lib/csv-file.ts';

/** The raw upload of a file route (a CSV body or a multipart form), as the route's handler gets it. */
export interface RawUpload {
  contentType: string | undefined;
  bytes: Buffer;
  /** more than the limit was sent: the bytes were dropped */
  tooLarge: boolean;
}

/**
 * Reads a file upload's body as bytes, up to the import limit (a multipart form may add a little).
 * A larger body is read to its end and dropped, so the client gets the clear refusal instead of a
 * reset connection. JSON bodies are left to the JSON parser. The body seen by the idempotency
 * check is the file's hash.
 */
export function fileUpload(limit = MAX_IMPORT_BYTES + 64 * 1024) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const type = req.get('content-type') ?? '';
    if (req.method !== 'POST' || /^application\/json/i.test(type)) return next();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('error', next);
    req.on('end', () => {
      const bytes = size <= limit ? Buffer.concat(chunks) : Buffer.alloc(0);
      const upload: RawUpload = { contentType: type || undefined, bytes, tooLarge: size > limit };
      (req as Request & { rawUpload?: RawUpload }).rawUpload = upload;
      req.body = { file: createHash('sha256').update(bytes).digest('hex'), size };
      next();
    });
  };
}
