import type { SessionUser } from '../repositories/users.repository.ts';

/** How long a session read from the database answers requests without being read again. */
export const SESSION_CACHE_MS = 1000;
/** Sessions held at most; the oldest go first. */
const MAX_ENTRIES = 10_000;

/**
 * Signed-in sessions this instance read in the last second, so a busy client (a cashier's burst,
 * an integration) costs one session lookup a second instead of one per request. Whatever ends a
 * session on this instance (sign-out, a new password, a disabled or deleted account, a role
 * change) drops it here at once; on other instances it ends within {@link SESSION_CACHE_MS}.
 */
export class SessionCache {
  private readonly entries = new Map<string, { row: SessionUser; readAt: number }>();

  constructor(private readonly ttlMs = SESSION_CACHE_MS) {}

  get(sessionId: string, now: number): SessionUser | undefined {
    const hit = this.entries.get(sessionId);
    if (!hit) return undefined;
    if (now - hit.readAt < this.ttlMs) return hit.row;
    this.entries.delete(sessionId);
    return undefined;
  }

  set(row: SessionUser, now: number): void {
    this.entries.delete(row.session_id);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(row.session_id, { row, readAt: now });
  }

  dropSession(sessionId: string): void {
    this.entries.delete(sessionId);
  }

  dropUser(userId: string): void {
    for (const [id, { row }] of this.entries) if (String(row.user_id) === String(userId)) this.entries.delete(id);
  }
}
