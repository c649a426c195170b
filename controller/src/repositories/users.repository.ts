import { Op, type Transaction } from 'sequelize';
import { ApiToken, Session, User } from '../db/models/index.ts';
import type { Database } from '../db/database.ts';

/** A session joined with its user. */
export interface SessionUser {
  session_id: string;
  expires_at: Date | null;
  last_seen_at: Date;
  user_id: string;
  username: string;
  role: User['role'];
  disabled: boolean;
}

export class UsersRepository {
  constructor(private readonly db: Database) {}

  findByUsername(username: string): Promise<User | null> {
    return User.findOne({ where: this.db.sequelize.where(this.db.sequelize.fn('lower', this.db.sequelize.col('username')), username.toLowerCase()) });
  }
  findById(id: string, tx?: Transaction): Promise<User | null> {
    return User.findByPk(id, { transaction: tx });
  }
  list(): Promise<User[]> {
    return User.findAll({ order: [['id', 'ASC']] });
  }
  count(): Promise<number> {
    return User.count();
  }
  countActiveAdmins(tx?: Transaction): Promise<number> {
    return User.count({ where: { role: 'admin', disabled: false }, transaction: tx });
  }
  create(data: { username: string; passwordHash: string; role: User['role']; fullName: string | null }, tx?: Transaction): Promise<User> {
    return User.create({ ...data, lastLoginAt: null }, { transaction: tx });
  }
  async update(id: string, patch: Partial<Pick<User, 'passwordHash' | 'role' | 'fullName' | 'disabled' | 'lastLoginAt'>>, tx?: Transaction): Promise<void> {
    await User.update({ ...patch, updatedAt: new Date() }, { where: { id }, transaction: tx });
  }
  async remove(id: string, tx?: Transaction): Promise<void> {
    await User.destroy({ where: { id }, transaction: tx });
  }

  // sessions
  createSession(data: { id: string; userId: string; expiresAt: Date; ip: string | null; userAgent: string | null }, tx?: Transaction): Promise<Session> {
    return Session.create(data, { transaction: tx });
  }
  findSession(id: string): Promise<Session | null> {
    return Session.findByPk(id);
  }
  /** A session with its user, in one round trip: every signed-in request starts here. */
  async sessionWithUser(id: string): Promise<SessionUser | undefined> {
    const rows = await this.db.prepared<SessionUser>(
      'users.session-with-user',
      `SELECT s.id AS session_id, s.expires_at, s.last_seen_at, u.id AS user_id, u.username, u.role, u.disabled
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1`,
      [id],
    );
    return rows[0];
  }
  /** An API token with its user, in one round trip. */
  async tokenWithUser(
    tokenHash: string,
  ): Promise<(Omit<SessionUser, 'session_id' | 'last_seen_at'> & { token_id: string; last_used_at: Date | null; revoked_at: Date | null }) | undefined> {
    const rows = await this.db.rows<
      Omit<SessionUser, 'session_id' | 'last_seen_at'> & { token_id: string; last_used_at: Date | null; revoked_at: Date | null }
    >(
      `SELECT t.id AS token_id, t.expires_at, t.last_used_at, t.revoked_at, u.id AS user_id, u.username, u.role, u.disabled
         FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1`,
      [tokenHash],
    );
    return rows[0];
  }
  async touchSession(id: string, at: Date): Promise<void> {
    await Session.update({ lastSeenAt: at }, { where: { id } });
  }
  async deleteSession(id: string, tx?: Transaction): Promise<void> {
    await Session.destroy({ where: { id }, transaction: tx });
  }
  async deleteSessionsOf(userId: string, tx?: Transaction): Promise<void> {
    await Session.destroy({ where: { userId }, transaction: tx });
  }
  async deleteExpiredSessions(idleBefore: Date): Promise<number> {
    return Session.destroy({ where: { [Op.or]: [{ expiresAt: { [Op.lt]: new Date() } }, { lastSeenAt: { [Op.lt]: idleBefore } }] } });
  }

  // API tokens
  createToken(data: { userId: string; name: string; tokenHash: string; expiresAt: Date | null }, tx?: Transaction): Promise<ApiToken> {
    return ApiToken.create({ ...data, lastUsedAt: null, revokedAt: null }, { transaction: tx });
  }
  findTokenByHash(tokenHash: string): Promise<ApiToken | null> {
    return ApiToken.findOne({ where: { tokenHash } });
  }
  listTokens(userId: string): Promise<ApiToken[]> {
    return ApiToken.findAll({ where: { userId, revokedAt: null }, order: [['id', 'ASC']] });
  }
  /** Revokes a token of `userId` (of anyone when null). */
  async revokeToken(userId: string | null, id: string, tx?: Transaction): Promise<number> {
    const [n] = await ApiToken.update({ revokedAt: new Date() }, { where: { id, ...(userId === null ? {} : { userId }), revokedAt: null }, transaction: tx });
    return n;
  }
  async revokeTokensOf(userId: string, tx?: Transaction): Promise<number> {
    const [n] = await ApiToken.update({ revokedAt: new Date() }, { where: { userId, revokedAt: null }, transaction: tx });
    return n;
  }
  async touchToken(id: string, at: Date): Promise<void> {
    await ApiToken.update({ lastUsedAt: at }, { where: { id } });
  }

  // login throttling, keyed by the lower-cased name typed (known or not, so it reveals nothing)

  /**
   * Records a sign-in attempt as a failure before its password is checked, and decides in the
   * same statement (the row lock orders parallel attempts) whether it may be checked at all: not
   * while the account is locked. The `threshold`-th failure locks for 1 minute, each further one
   * doubles it, up to `maxLockSeconds`. A success clears the row ({@link clearFailures}).
   */
  async recordAttempt(key: string, threshold: number, maxLockSeconds: number): Promise<{ refused: boolean; failures: number; lockedUntil: Date | null }> {
    const rows = await this.db.rows<{ refused: boolean; failures: number; locked_until: Date | null }>(
      `INSERT INTO login_throttle AS t (username_key, failures, last_failure_at, locked_until, refused)
       VALUES ($1, 1, now(), CASE WHEN $2::int <= 1 THEN now() + interval '1 minute' END, false)
       ON CONFLICT (username_key) DO UPDATE SET
         refused = COALESCE(t.locked_until > now(), false),
         failures = CASE WHEN t.locked_until > now() THEN t.failures ELSE t.failures + 1 END,
         last_failure_at = now(),
         locked_until = CASE
           WHEN t.locked_until > now() THEN t.locked_until
           WHEN t.failures + 1 >= $2::int
             THEN now() + make_interval(secs => LEAST($3::float8, 60 * power(2::float8, LEAST(t.failures + 1 - $2::int, 30))))
           ELSE t.locked_until END
       RETURNING refused, failures, locked_until`,
      [key, threshold, maxLockSeconds],
    );
    const r = rows[0]!;
    return { refused: r.refused, failures: r.failures, lockedUntil: r.locked_until ? new Date(r.locked_until) : null };
  }
  async clearFailures(key: string): Promise<void> {
    await this.db.exec('DELETE FROM login_throttle WHERE username_key = $1', [key]);
  }
}
