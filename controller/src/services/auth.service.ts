import type { Me } from '@mtandao/protocol/api';
import type { Config } from '../config.ts';
import { AppError, conflict, notFound } from '../errors.ts';
import type { Actor, RequestMeta } from '../http/route.ts';
import { GateBusy, SlidingWindowLimit, WorkGate } from '../lib/limits.ts';
import { dummyPasswordHash, hashPassword, randomToken, sha256, verifyPassword } from '../lib/secrets.ts';
import type { UsersRepository } from '../repositories/users.repository.ts';
import type { AuditService } from './audit.service.ts';
import { SessionCache } from './session-cache.ts';
import type { Database } from '../db/database.ts';
import type { Transaction } from 'sequelize';
import type { User } from '../db/models/index.ts';
import { uniqueViolation } from '../db/database.ts';

/** One message for an unknown user and a wrong password. */
export const LOGIN_FAILED_MESSAGE = 'Invalid username or password';
const THROTTLE_AFTER = 5;
/** The longest an account stays locked after failures. */
const MAX_LOCK_SECONDS = 15 * 60;
/** The window of the per-address failure limit (the limit is `loginFailuresPerIp`). */
const IP_WINDOW_MS = 15 * 60_000;
/** Password hashes computed at once, and waiting; more get 429 at once. */
const SCRYPT_AT_ONCE = 2;
const SCRYPT_QUEUE = 8;
const TOKEN_DEFAULT_DAYS = 90;
const TOUCH_EVERY_MS = 60_000;

const tooMany = (seconds: number, what: string) => {
  const minutes = Math.max(1, Math.ceil(seconds / 60));
  return new AppError(429, `${what} Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`, { retryAfterSeconds: seconds });
};

const view = (u: User) => ({
  id: u.id,
  username: u.username,
  role: u.role,
  fullName: u.fullName,
  disabled: u.disabled,
  lastLoginAt: u.lastLoginAt?.toISOString() ?? null,
  createdAt: u.createdAt.toISOString(),
});

/** Staff accounts, sessions, API tokens and the bootstrap admin. */
export class AuthService {
  private readonly scrypt = new WorkGate(SCRYPT_AT_ONCE, SCRYPT_QUEUE);
  private readonly failuresByIp: SlidingWindowLimit;
  private readonly sessions = new SessionCache();

  constructor(
    private readonly db: Database,
    private readonly users: UsersRepository,
    private readonly audit: AuditService,
    private readonly config: Pick<Config, 'sessionIdleMs' | 'sessionAbsoluteMs' | 'loginFailuresPerIp' | 'passwordHashCost'>,
  ) {
    this.failuresByIp = new SlidingWindowLimit(config.loginFailuresPerIp, IP_WINDOW_MS);
  }

  /** A new password's hash, through the same cap on scrypt work as sign-ins. */
  private async hash(password: string): Promise<string> {
    try {
      return await this.scrypt.run(() => hashPassword(password, this.config.passwordHashCost));
    } catch (err) {
      if (err instanceof GateBusy)
        throw new AppError(429, 'The server is busy checking sign-ins. Try again in a moment.', { retryAfterSeconds: err.retryAfterSeconds });
      throw err;
    }
  }

  /** Password checks run so far (a test counts them). */
  passwordChecks = 0;

  /**
   * Checks credentials; on success opens a new session (the old one, if any, is dropped: rotation).
   * In order: the address's failure budget (in memory), a slot for scrypt, then the attempt is
   * recorded as a failure in the database, which also says whether the account is locked. Only then
   * is the password checked; a success clears the record and gives the address its attempt back.
   */
  async login(input: {
    username: string;
    password: string;
    previousSession?: string | undefined;
    ip?: string | undefined;
    userAgent?: string | undefined;
    requestId: string;
  }) {
    const key = input.username.trim().toLowerCase();
    const ip = input.ip ?? 'unknown';
    const ipWait = this.failuresByIp.take(ip);
    if (ipWait !== undefined) throw tooMany(ipWait, 'Too many failed sign-in attempts from this address.');
    let user: User | null;
    try {
      user = await this.scrypt.run(async () => {
        const attempt = await this.users.recordAttempt(key, THROTTLE_AFTER, MAX_LOCK_SECONDS);
        if (attempt.refused) {
          const seconds = Math.ceil(((attempt.lockedUntil?.getTime() ?? Date.now()) - Date.now()) / 1000);
          throw tooMany(Math.max(1, seconds), 'Too many failed sign-in attempts.');
        }
        const found = await this.users.findByUsername(key);
        this.passwordChecks++;
        // Burn the same scrypt time for unknown users so timing does not tell them apart.
        const ok = found
          ? await verifyPassword(input.password, found.passwordHash)
          : (await verifyPassword(input.password, await dummyPasswordHash(this.config.passwordHashCost)), false);
        return found && ok && !found.disabled ? found : null;
      });
    } catch (err) {
      if (err instanceof GateBusy) {
        this.failuresByIp.refund(ip);
        throw new AppError(429, 'The server is busy checking other sign-ins. Try again in a moment.', { retryAfterSeconds: err.retryAfterSeconds });
      }
      throw err;
    }
    if (!user) throw new AppError(401, LOGIN_FAILED_MESSAGE);
    this.failuresByIp.refund(ip);
    await this.users.clearFailures(key);
    const token = randomToken('', 32);
    const now = new Date();
    await this.db.transaction(async (tx) => {
      if (input.previousSession) await this.endSession(sha256(input.previousSession), tx);
      await this.users.createSession(
        {
          id: sha256(token),
          userId: user.id,
          expiresAt: new Date(now.getTime() + this.config.sessionAbsoluteMs),
          ip: input.ip ?? null,
          userAgent: input.userAgent?.slice(0, 300) ?? null,
        },
        tx,
      );
      await this.users.update(user.id, { lastLoginAt: now }, tx);
      await this.audit.record(
        { actor: { userId: user.id, username: user.username, role: user.role, via: 'session' }, requestId: input.requestId, ip: input.ip },
        'auth.login',
        'user',
        user.id,
        {},
        tx,
      );
    });
    return { token, maxAgeMs: this.config.sessionAbsoluteMs, user: await this.me(user) };
  }

  async logout(token: string | undefined, meta: RequestMeta | undefined): Promise<void> {
    if (!token) return;
    await this.endSession(sha256(token));
    if (meta) await this.audit.record(meta, 'auth.logout', 'user', meta.actor.userId);
  }

  private async endSession(sessionId: string, tx?: Transaction): Promise<void> {
    this.sessions.dropSession(sessionId);
    await this.users.deleteSession(sessionId, tx);
  }

  /** Resolves a session cookie, enforcing the idle and absolute timeouts (a second's reads kept: {@link SessionCache}). */
  async actorFromSession(token: string): Promise<Actor | undefined> {
    const id = sha256(token);
    const now = Date.now();
    const cached = this.sessions.get(id, now);
    const row = cached ?? (await this.users.sessionWithUser(id));
    if (!row) return undefined;
    const lastSeen = new Date(row.last_seen_at).getTime();
    if (!row.expires_at || new Date(row.expires_at).getTime() <= now || lastSeen + this.config.sessionIdleMs <= now) {
      await this.endSession(row.session_id);
      return undefined;
    }
    if (row.disabled) return undefined;
    if (now - lastSeen > TOUCH_EVERY_MS) {
      await this.users.touchSession(row.session_id, new Date(now));
      row.last_seen_at = new Date(now);
    }
    // kept from when it was read: a session in constant use is still read again every second
    if (!cached) this.sessions.set(row, now);
    return { userId: String(row.user_id), username: row.username, role: row.role, via: 'session', sessionId: row.session_id };
  }

  /** Resolves an `Authorization: Bearer` API token. */
  async actorFromToken(token: string): Promise<Actor | undefined> {
    const row = await this.users.tokenWithUser(sha256(token));
    if (!row || row.revoked_at || row.disabled || (row.expires_at && new Date(row.expires_at).getTime() <= Date.now())) return undefined;
    if (!row.last_used_at || Date.now() - new Date(row.last_used_at).getTime() > TOUCH_EVERY_MS) await this.users.touchToken(String(row.token_id), new Date());
    return { userId: String(row.user_id), username: row.username, role: row.role, via: 'token' };
  }

  async me(user: User | string): Promise<Me> {
    const u = typeof user === 'string' ? await this.users.findById(user) : user;
    if (!u) throw notFound('User');
    return { id: u.id, username: u.username, role: u.role, fullName: u.fullName };
  }

  /** A new API token of the signed-in user: 90 days unless asked otherwise. A token cannot make tokens. */
  async createToken(meta: RequestMeta, input: { name: string; expiresInDays?: number | undefined }) {
    if (meta.actor.via === 'token') throw new AppError(403, 'An API token cannot create API tokens: sign in to make one');
    const token = randomToken('mt_', 32);
    const expiresAt = new Date(Date.now() + (input.expiresInDays ?? TOKEN_DEFAULT_DAYS) * 86_400_000);
    const row = await this.db.transaction(async (tx) => {
      const created = await this.users.createToken({ userId: meta.actor.userId, name: input.name, tokenHash: sha256(token), expiresAt }, tx);
      await this.audit.record(meta, 'token.create', 'api_token', created.id, { name: input.name }, tx);
      return created;
    });
    return { id: row.id, name: row.name, token, createdAt: row.createdAt.toISOString(), expiresAt: expiresAt.toISOString() };
  }

  async listTokens(actor: Actor) {
    const rows = await this.users.listTokens(actor.userId);
    return {
      items: rows.map((t) => ({
        id: t.id,
        name: t.name,
        createdAt: t.createdAt.toISOString(),
        lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
        expiresAt: t.expiresAt?.toISOString() ?? null,
      })),
      total: rows.length,
    };
  }

  /** Revokes one of the caller's tokens; an admin may revoke anyone's. */
  async revokeToken(meta: RequestMeta, id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const owner = meta.actor.role === 'admin' ? null : meta.actor.userId;
      if ((await this.users.revokeToken(owner, id, tx)) === 0) throw notFound('API token');
      await this.audit.record(meta, 'token.revoke', 'api_token', id, {}, tx);
    });
  }

  // staff accounts (admin only)

  async listUsers() {
    const rows = await this.users.list();
    return { items: rows.map(view), total: rows.length };
  }

  async createUser(meta: RequestMeta, input: { username: string; password: string; role: User['role']; fullName?: string | undefined }) {
    const passwordHash = await this.hash(input.password);
    try {
      return await this.db.transaction(async (tx) => {
        const u = await this.users.create({ username: input.username, passwordHash, role: input.role, fullName: input.fullName ?? null }, tx);
        await this.audit.record(meta, 'user.create', 'user', u.id, { username: u.username, role: u.role }, tx);
        return view(u);
      });
    } catch (err) {
      if (uniqueViolation(err)) throw conflict('Username already exists', 'username');
      throw err;
    }
  }

  async updateUser(
    meta: RequestMeta,
    id: string,
    input: { password?: string | undefined; role?: User['role'] | undefined; fullName?: string | undefined; disabled?: boolean | undefined },
  ) {
    const passwordHash = input.password ? await this.hash(input.password) : undefined;
    return this.db.transaction(async (tx) => {
      const u = await this.users.findById(id, tx);
      if (!u) throw notFound('User');
      const demotes = (input.role && input.role !== 'admin') || input.disabled === true;
      if (u.role === 'admin' && demotes && (await this.users.countActiveAdmins(tx)) <= 1) {
        throw new AppError(409, 'The last admin cannot be demoted or disabled', { field: input.role ? 'role' : 'disabled' });
      }
      await this.users.update(
        id,
        {
          ...(passwordHash ? { passwordHash } : {}),
          ...(input.role ? { role: input.role } : {}),
          ...(input.fullName !== undefined ? { fullName: input.fullName } : {}),
          ...(input.disabled !== undefined ? { disabled: input.disabled } : {}),
        },
        tx,
      );
      if (passwordHash || input.disabled || input.role) {
        await this.users.deleteSessionsOf(id, tx);
        this.sessions.dropUser(id);
      }
      // a new password or a disabled account ends every API token too (enabling again does not revive them)
      const tokensRevoked = passwordHash || input.disabled ? await this.users.revokeTokensOf(id, tx) : 0;
      await this.audit.record(
        meta,
        'user.update',
        'user',
        id,
        { role: input.role, disabled: input.disabled, passwordChanged: Boolean(passwordHash), tokensRevoked },
        tx,
      );
      return view((await this.users.findById(id, tx))!);
    });
  }

  async deleteUser(meta: RequestMeta, id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const u = await this.users.findById(id, tx);
      if (!u) throw notFound('User');
      if (u.id === meta.actor.userId) throw new AppError(409, 'You cannot delete your own account');
      if (u.role === 'admin' && (await this.users.countActiveAdmins(tx)) <= 1) throw new AppError(409, 'The last admin cannot be deleted');
      await this.users.remove(id, tx);
      this.sessions.dropUser(id);
      await this.audit.record(meta, 'user.delete', 'user', id, { username: u.username }, tx);
    });
  }

  /**
   * On an empty database, creates `admin` with MTANDAO_ADMIN_PASSWORD or a random password that is
   * returned to be printed once.
   */
  async bootstrapAdmin(password: string | undefined): Promise<{ created: boolean; password?: string }> {
    if ((await this.users.count()) > 0) return { created: false };
    const chosen = password ?? randomToken('', 12);
    try {
      await this.db.transaction(async (tx) => {
        const u = await this.users.create(
          { username: 'admin', passwordHash: await hashPassword(chosen, this.config.passwordHashCost), role: 'admin', fullName: 'Administrator' },
          tx,
        );
        await this.audit.record(null, 'user.bootstrap', 'user', u.id, { username: 'admin' }, tx);
      });
    } catch (err) {
      if (uniqueViolation(err)) return { created: false }; // another instance won the race
      throw err;
    }
    return password ? { created: true } : { created: true, password: chosen };
  }
}
