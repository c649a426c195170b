import type { Transaction } from 'sequelize';
import { Agent, EnrollmentToken, RouterModel, Site } from '../db/models/index.ts';
import type { Database } from '../db/database.ts';

/** Sites, their enrolment tokens and agents. */
export class SitesRepository {
  constructor(private readonly db: Database) {}

  list(): Promise<Site[]> {
    return Site.findAll({ order: [['name', 'ASC']] });
  }
  findById(id: string, tx?: Transaction): Promise<Site | null> {
    return Site.findByPk(id, { transaction: tx });
  }
  create(name: string, tx?: Transaction): Promise<Site> {
    return Site.create({ name }, { transaction: tx });
  }
  async rename(id: string, name: string, tx: Transaction): Promise<void> {
    await Site.update({ name, updatedAt: new Date() }, { where: { id }, transaction: tx });
  }
  async remove(id: string, tx: Transaction): Promise<void> {
    await Site.destroy({ where: { id }, transaction: tx });
  }
  async routerCounts(): Promise<Map<string, number>> {
    const rows = await this.db.rows<{ site_id: string; n: string }>('SELECT site_id, count(*) AS n FROM routers GROUP BY site_id');
    return new Map(rows.map((r) => [String(r.site_id), Number(r.n)]));
  }

  createToken(data: { siteId: string; tokenHash: string; expiresAt: Date; createdBy: string | null }, tx?: Transaction): Promise<EnrollmentToken> {
    return EnrollmentToken.create({ ...data, usedAt: null, usedByAgent: null }, { transaction: tx });
  }
  /** Locks the token row so two agents cannot both spend it. */
  findTokenForUpdate(tokenHash: string, tx: Transaction): Promise<EnrollmentToken | null> {
    return EnrollmentToken.findOne({ where: { tokenHash }, transaction: tx, lock: tx.LOCK.UPDATE });
  }
  async spendToken(id: string, agentId: string, tx: Transaction): Promise<void> {
    await EnrollmentToken.update({ usedAt: new Date(), usedByAgent: agentId }, { where: { id }, transaction: tx });
  }

  createAgent(data: { id: string; siteId: string; publicKey: string; hostname: string | null; version: string | null }, tx: Transaction): Promise<Agent> {
    return Agent.create({ ...data, capability: null, connectedInstance: null, connectedAt: null, lastSeenAt: null, revokedAt: null }, { transaction: tx });
  }
  /** A site is served by one agent: enrolling a new one retires the others (their ids are returned). */
  async revokeOtherAgents(siteId: string, keepId: string | null, tx: Transaction): Promise<string[]> {
    const rows = await this.db.rows<{ id: string }>(
      'UPDATE agents SET revoked_at = now() WHERE site_id = $1 AND id IS DISTINCT FROM $2 AND revoked_at IS NULL RETURNING id',
      [siteId, keepId],
      tx,
    );
    return rows.map((r) => r.id);
  }
  /** Ids of the site's agents, retired or not. */
  async agentIdsOfSite(siteId: string, tx?: Transaction): Promise<string[]> {
    return (await this.db.rows<{ id: string }>('SELECT id FROM agents WHERE site_id = $1', [siteId], tx)).map((r) => r.id);
  }
  /** Which of these agents are retired (or gone). */
  async retiredAmong(agentIds: string[]): Promise<string[]> {
    if (agentIds.length === 0) return [];
    const live = await this.db.rows<{ id: string }>('SELECT id FROM agents WHERE id = ANY($1::text[]) AND revoked_at IS NULL', [agentIds]);
    const ok = new Set(live.map((r) => r.id));
    return agentIds.filter((id) => !ok.has(id));
  }
  findAgent(id: string): Promise<Agent | null> {
    return Agent.findByPk(id);
  }
  currentAgents(): Promise<Agent[]> {
    return Agent.findAll({ where: { revokedAt: null } });
  }
  /** Records a fresh upgrade nonce; false when it was seen before (a replayed challenge). */
  async useNonce(nonce: string, agentId: string, expiresAt: Date): Promise<boolean> {
    const n = await this.db.exec('INSERT INTO agent_nonces (nonce, agent_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
      nonce,
      agentId,
      expiresAt,
    ]);
    if (Math.random() < 0.05) await this.db.exec('DELETE FROM agent_nonces WHERE expires_at < now()');
    return n === 1;
  }
  async markConnected(agentId: string, instanceId: string, hello: { version: string; capability: number; hostname?: string }): Promise<void> {
    await Agent.update(
      { connectedInstance: instanceId, connectedAt: new Date(), lastSeenAt: new Date(), version: hello.version, capability: hello.capability },
      { where: { id: agentId } },
    );
  }
  async markSeen(agentIds: string[]): Promise<void> {
    if (agentIds.length === 0) return;
    await Agent.update({ lastSeenAt: new Date() }, { where: { id: agentIds } });
  }
  async markDisconnected(agentId: string, instanceId: string): Promise<void> {
    await Agent.update({ connectedInstance: null }, { where: { id: agentId, connectedInstance: instanceId } });
  }
  /** Never hands out a seq the agent would take for a replay (a restored database, say). */
  async raiseNextSeq(agentId: string, lastSeq: number): Promise<void> {
    await this.db.exec('UPDATE agents SET next_seq = GREATEST(next_seq, $2) WHERE id = $1', [agentId, lastSeq]);
  }

  async setAckedSeq(agentId: string, seq: number): Promise<void> {
    await this.db.exec('UPDATE agents SET last_acked_seq = GREATEST(last_acked_seq, $2) WHERE id = $1', [agentId, seq]);
  }

  /** Routers of a site by name (health reports name routers as the agent's config does). */
  routersOfSite(siteId: string): Promise<RouterModel[]> {
    return RouterModel.findAll({ where: { siteId } });
  }
}
