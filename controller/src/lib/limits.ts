/** Thrown when a {@link WorkGate}'s queue is full: the caller should answer 429 with Retry-After. */
export class GateBusy extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('busy');
  }
}

/**
 * At most `limit` tasks at once, at most `maxQueue` waiting; beyond that {@link GateBusy} at once.
 * scrypt takes ~128 MiB and a libuv thread per hash: unbounded, a burst of logins starves every
 * other use of the thread pool (and the memory) for many seconds.
 */
export class WorkGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(
    private readonly limit: number,
    private readonly maxQueue: number,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) {
      if (this.waiting.length >= this.maxQueue) throw new GateBusy(Math.max(1, Math.ceil(this.waiting.length / this.limit)));
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // the slot passes straight to the next waiter
      if (next) next();
      else this.running--;
    }
  }
}

/**
 * Counts events per key in a sliding window, in memory (one instance's view: enough to slow one
 * address down; the per-account lock in the database is what holds across instances).
 */
export class SlidingWindowLimit {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly maxKeys = 50_000,
  ) {}

  /** Counts one event for `key`; `undefined` when allowed, else the seconds until one is allowed again. */
  take(key: string, now = Date.now()): number | undefined {
    const list = this.recent(key, now);
    if (list.length >= this.max) return Math.max(1, Math.ceil((list[0]! + this.windowMs - now) / 1000));
    list.push(now);
    this.hits.delete(key); // re-inserted last: the map's order is least recently used first
    this.hits.set(key, list);
    if (this.hits.size > this.maxKeys) this.hits.delete(this.hits.keys().next().value!);
    return undefined;
  }

  /** Takes back the latest event of `key` (a successful sign-in is not held against its address). */
  refund(key: string): void {
    this.hits.get(key)?.pop();
  }

  private recent(key: string, now: number): number[] {
    const list = this.hits.get(key) ?? [];
    while (list.length > 0 && list[0]! <= now - this.windowMs) list.shift();
    return list;
  }
}
