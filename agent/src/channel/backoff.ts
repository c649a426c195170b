/** Reconnect timing: exponential, capped, with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"). */
export interface BackoffOptions {
  /** First ceiling. */
  baseMs: number;
  /** Largest ceiling: no wait is ever longer. */
  capMs: number;
  /** Source of randomness in [0, 1); injectable for tests. */
  random?: () => number;
}

/**
 * Delay before reconnect attempt `attempt` (0-based): uniform in [0, min(cap, base·2^attempt)].
 * Full jitter spreads a fleet of agents that lost the controller at the same moment.
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor((options.random ?? Math.random)() * ceiling);
}

/** An interval of `ms` ± `spread` (a fraction), so keepalives of many agents do not line up. */
export function jittered(ms: number, spread = 0.2, random: () => number = Math.random): number {
  return Math.round(ms * (1 - spread + 2 * spread * random()));
}
