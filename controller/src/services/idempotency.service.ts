import { createHash } from 'node:crypto';
import { AppError } from '../errors.ts';
import type { Database, Transaction } from '../db/database.ts';
import type { IdempotencyRepository } from '../repositories/idempotency.repository.ts';

/** An answer as the API sends it: a status and the exact JSON text. */
export interface Answer {
  status: number;
  body: string;
  replayed: boolean;
}

/** What identifies one idempotent request. */
export interface IdempotentRequest {
  userId: string;
  key: string;
  /** Method and path, e.g. `POST /api/v1/customers`. */
  request: string;
  /** The parsed JSON body as sent. */
  body: unknown;
}

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const WAIT_MS = 10_000;
const PURGE_EVERY_MS = 3_600_000;

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` hash alike. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * `Idempotency-Key` on POSTs. The request runs in one transaction that first claims the key, then
 * makes the change (every `db.transaction()` inside joins it), then stores the answer: a commit
 * always has its answer and a crash before it leaves nothing, so a retry replays or runs afresh,
 * never finds a half-done request. A concurrent duplicate waits for the first (up to 10 s, then
 * 409). Errors are not stored: nothing was written, so a retry simply runs again.
 */
export class IdempotencyService {
  private lastPurge = 0;

  constructor(
    private readonly db: Database,
    private readonly keys: IdempotencyRepository,
  ) {}

  /** Validates the header's value (visible ASCII, 1–255 characters). */
  static checkKey(key: string): void {
    if (!KEY_PATTERN.test(key)) {
      throw new AppError(400, 'Idempotency-Key must be 1 to 255 visible ASCII characters', {
        field: 'Idempotency-Key',
        issues: [{ field: 'Idempotency-Key', message: 'Idempotency-Key must be 1 to 255 visible ASCII characters' }],
      });
    }
  }

  async run(req: IdempotentRequest, work: () => Promise<{ status: number; body: unknown }>): Promise<Answer> {
    IdempotencyService.checkKey(req.key);
    const bodyHash = createHash('sha256')
      .update(canonical(req.body ?? null))
      .digest('hex');
    try {
      return await this.db.enclosing(async (tx) => {
        if (Date.now() - this.lastPurge > PURGE_EVERY_MS) {
          this.lastPurge = Date.now();
          await this.keys.purge(tx);
        }
        // a claim made here is only ever committed with its answer (a reserved one may be seen without)
        if (!(await this.keys.claim(tx, req.userId, req.key, req.request, bodyHash, WAIT_MS))) return this.earlier(tx, req, bodyHash);
        const out = await work();
        const body = JSON.stringify(out.body ?? null);
        await this.keys.complete(tx, req.userId, req.key, out.status, body);
        return { status: out.status, body, replayed: false };
      });
    } catch (err) {
      if (lockTimeout(err)) throw inProgress();
      throw err;
    }
  }

  /** The answer kept for a key already claimed: replayed, or refused when the request differs or is still running. */
  private async earlier(tx: Transaction, req: IdempotentRequest, bodyHash: string): Promise<Answer> {
    const first = (await this.keys.find(tx, req.userId, req.key))!;
    if (first.request !== req.request || first.body_hash !== bodyHash) {
      const message = 'This Idempotency-Key was already used for a different request';
      throw new AppError(422, message, { field: 'Idempotency-Key', issues: [{ field: 'Idempotency-Key', message }] });
    }
    if (first.status === null || first.response === null) throw inProgress();
    return { status: first.status, body: first.response, replayed: true };
  }

  /**
   * For handlers that wait on a remote service: the key is claimed in a transaction of its own,
   * the work runs outside it, and the answer is stored after. A duplicate meanwhile gets 409 (in
   * progress); a failure releases the key, so a retry runs afresh; a claim left by a crash
   * mid-call is given up after two minutes.
   */
  async reserveAndRun(req: IdempotentRequest, work: () => Promise<{ status: number; body: unknown }>): Promise<Answer> {
    IdempotencyService.checkKey(req.key);
    const bodyHash = createHash('sha256')
      .update(canonical(req.body ?? null))
      .digest('hex');
    const earlier = await this.db.transaction(async (tx): Promise<Answer | undefined> => {
      await this.keys.releaseStale(tx, req.userId, req.key, RESERVATION_MS);
      return (await this.keys.claim(tx, req.userId, req.key, req.request, bodyHash, WAIT_MS)) ? undefined : this.earlier(tx, req, bodyHash);
    });
    if (earlier) return earlier;
    let out: { status: number; body: unknown };
    try {
      out = await work();
    } catch (err) {
      await this.db.transaction((tx) => this.keys.release(tx, req.userId, req.key));
      throw err;
    }
    const body = JSON.stringify(out.body ?? null);
    await this.db.transaction((tx) => this.keys.complete(tx, req.userId, req.key, out.status, body));
    return { status: out.status, body, replayed: false };
  }
}

/** A reservation whose handler never finished (a crash mid-call) is given up after this long. */
const RESERVATION_MS = 120_000;

const inProgress = () => new AppError(409, 'A request with this Idempotency-Key is in progress; retry in a moment', { field: 'Idempotency-Key' });

function lockTimeout(err: unknown): boolean {
  const e = err as { parent?: { code?: string }; original?: { code?: string }; code?: string } | undefined;
  return (e?.parent?.code ?? e?.original?.code ?? e?.code) === '55P03';
}
