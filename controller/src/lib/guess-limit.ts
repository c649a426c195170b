/**
 * Wrong guesses per key (an IP, a MAC) in a window, with a lockout once the allowance is spent. In
 * memory: one controller's view, which is what a guesser behind one hotspot meets.
 */
export class GuessLimit {
  private readonly failures = new Map<string, { count: number; since: number; lockedUntil: number }>();

  constructor(
    private readonly allowed: number,
    private readonly windowMs: number,
    private readonly lockMs: number,
    private readonly maxKeys = 50_000,
  ) {}

  /** Seconds until `key` may guess again, or 0. */
  lockedFor(key: string, now = Date.now()): number {
    const f = this.failures.get(key);
    return f && f.lockedUntil > now ? Math.ceil((f.lockedUntil - now) / 1000) : 0;
  }

  /** Counts a wrong guess. */
  fail(key: string, now = Date.now()): void {
    let f = this.failures.get(key);
    if (!f || now - f.since > this.windowMs) f = { count: 0, since: now, lockedUntil: 0 };
    f.count++;
    if (f.count >= this.allowed) f.lockedUntil = now + this.lockMs;
    this.failures.delete(key);
    this.failures.set(key, f);
    if (this.failures.size > this.maxKeys) this.failures.delete(this.failures.keys().next().value!);
  }
}
