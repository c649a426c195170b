import { randomBytes } from 'node:crypto';
import { loadPublicKey } from '@mtandao/protocol/signing';
import type { EnrollRequest, EnrollResponse } from '@mtandao/protocol';
import type { Config } from '../config.ts';
import { AppError, conflict, invalid, notFound } from '../errors.ts';
import type { RequestMeta } from '../http/route.ts';
import { randomToken, sha256 } from '../lib/secrets.ts';
import type { SitesRepository } from '../repositories/sites.repository.ts';
import type { RoutersRepository, RouterRow } from '../repositories/routers.repository.ts';
import type { AuditService } from './audit.service.ts';
import { foreignKeyViolation, uniqueViolation, type Database } from '../db/database.ts';
import type { Agent } from '../db/models/index.ts';

const ENROLLMENT_TTL_MS = 60 * 60_000;

/** Sites, routers, agent enrolment and the agents' view of router health. */
export class SitesService {
  private retiredListener: ((agentIds: string[]) => void) | undefined;

  constructor(
    private readonly db: Database,
    private readonly sites: SitesRepository,
    private readonly routers: RoutersRepository,
    private readonly audit: AuditService,
    private readonly config: Pick<Config, 'publicUrl' | 'heartbeatMs'>,
    private readonly controllerPublicKeyPem: string,
  ) {}

  /** Told the ids of agents just retired (the hub drops their connections). */
  onAgentsRetired(listener: (agentIds: string[]) => void): void {
    this.retiredListener = listener;
  }

  private retired(agentIds: string[]): void {
    if (agentIds.length > 0) this.retiredListener?.(agentIds);
  }

  /** An agent counts as online while it is connected and has been heard from within three heartbeats. */
  isOnline(agent: { connectedInstance?: string | null; lastSeenAt: Date | null } | null, connected?: boolean): boolean {
    if (!agent?.lastSeenAt) return false;
    const isConnected = connected ?? Boolean(agent.connectedInstance);
    return isConnected && Date.now() - agent.lastSeenAt.getTime() < this.config.heartbeatMs * 3 + 5_000;
  }

  async listSites() {
    const [sites, agents, counts] = await Promise.all([this.sites.list(), this.sites.currentAgents(), this.sites.routerCounts()]);
    const agentBySite = new Map<string, Agent>();
    for (const a of agents) {
      const prev = agentBySite.get(String(a.siteId));
      if (!prev || prev.createdAt < a.createdAt) agentBySite.set(String(a.siteId), a);
    }
    const items = sites.map((s) => {
      const a = agentBySite.get(String(s.id));
      return {
        id: String(s.id),
        name: s.name,
        createdAt: s.createdAt.toISOString(),
        agent: a
          ? {
              id: a.id,
              online: this.isOnline(a),
              lastSeenAt: a.lastSeenAt?.toISOString() ?? null,
              version: a.version,
              hostname: a.hostname,
              capability: a.capability,
            }
          : null,
        routerCount: counts.get(String(s.id)) ?? 0,
      };
    });
    return { items, total: items.length };
  }

  async createSite(meta: RequestMeta, input: { name: string }) {
    try {
      const site = await this.db.transaction(async (tx) => {
        const s = await this.sites.create(input.name, tx);
        await this.audit.record(meta, 'site.create', 'site', String(s.id), { name: s.name }, tx);
        return s;
      });
      return { id: String(site.id), name: site.name, createdAt: site.createdAt.toISOString(), agent: null, routerCount: 0 };
    } catch (err) {
      if (uniqueViolation(err)) throw conflict('A site with this name already exists', 'name');
      throw err;
    }
  }

  async updateSite(meta: RequestMeta, id: string, input: { name?: string | undefined }) {
    try {
      await this.db.transaction(async (tx) => {
        if (!(await this.sites.findById(id, tx))) throw notFound('Site');
        if (input.name) await this.sites.rename(id, input.name, tx);
        await this.audit.record(meta, 'site.update', 'site', id, { name: input.name }, tx);
      });
    } catch (err) {
      if (uniqueViolation(err)) throw conflict('A site with this name already exists', 'name');
      throw err;
    }
    const site = (await this.listSites()).items.find((s) => s.id === id);
    if (!site) throw notFound('Site');
    return site;
  }

  /** Deletes a site without routers; its agent is retired with it. */
  async deleteSite(meta: RequestMeta, id: string): Promise<void> {
    const agentIds = await this.db.transaction(async (tx) => {
      const site = await this.sites.findById(id, tx);
      if (!site) throw notFound('Site');
      if ((await this.routers.list({ siteId: id })).length > 0) throw new AppError(409, 'This site still has routers: delete them first');
      const agents = await this.sites.agentIdsOfSite(id, tx);
      await this.sites.remove(id, tx);
      await this.audit.record(meta, 'site.delete', 'site', id, { name: site.name }, tx);
      return agents;
    });
    this.retired(agentIds);
  }

  /** Retires the site's agent: its key stops working and its connection is dropped at once. */
  async retireAgent(meta: RequestMeta, siteId: string): Promise<void> {
    const agentIds = await this.db.transaction(async (tx) => {
      if (!(await this.sites.findById(siteId, tx))) throw notFound('Site');
      const ids = await this.sites.revokeOtherAgents(siteId, null, tx);
      if (ids.length === 0) throw notFound('Agent');
      for (const agentId of ids) await this.audit.record(meta, 'agent.retire', 'agent', agentId, { siteId }, tx);
      return ids;
    });
    this.retired(agentIds);
  }

  /** A one-time, short-lived enrolment token, shown once with the command an installer runs. */
  async createEnrollmentToken(meta: RequestMeta, siteId: string) {
    const token = randomToken('enr_', 24);
    const expiresAt = new Date(Date.now() + ENROLLMENT_TTL_MS);
    await this.db.transaction(async (tx) => {
      if (!(await this.sites.findById(siteId, tx))) throw notFound('Site');
      const row = await this.sites.createToken({ siteId, tokenHash: sha256(token), expiresAt, createdBy: meta.actor.userId }, tx);
      await this.audit.record(meta, 'site.enrollment_token', 'site', siteId, { tokenId: String(row.id), expiresAt: expiresAt.toISOString() }, tx);
    });
    return {
      token,
      expiresAt: expiresAt.toISOString(),
      command: `mtandao-agent enroll --controller ${this.config.publicUrl} --token ${token}`,
      controllerUrl: this.config.publicUrl,
    };
  }

  /** Trades a one-time token and a public key for an agent identity. */
  async enroll(input: EnrollRequest): Promise<EnrollResponse> {
    try {
      loadPublicKey(input.publicKey);
    } catch {
      throw invalid('publicKey', 'Public key must be an Ed25519 public key in PEM (SPKI) form');
    }
    const agentId = `agt_${randomBytes(12).toString('hex')}`;
    const { site, replaced } = await this.db.transaction(async (tx) => {
      const token = await this.sites.findTokenForUpdate(sha256(input.token), tx);
      // one answer for unknown, spent and expired tokens
      if (!token || token.usedAt || token.expiresAt.getTime() <= Date.now())
        throw new AppError(401, 'Enrollment token is invalid, expired or already used', { field: 'token' });
      await this.sites.spendToken(String(token.id), agentId, tx);
      await this.sites.createAgent(
        { id: agentId, siteId: String(token.siteId), publicKey: input.publicKey, hostname: input.hostname ?? null, version: input.agentVersion ?? null },
        tx,
      );
      const others = await this.sites.revokeOtherAgents(String(token.siteId), agentId, tx);
      await this.audit.record(null, 'agent.enroll', 'agent', agentId, { siteId: String(token.siteId), hostname: input.hostname, retired: others }, tx);
      return { site: (await this.sites.findById(String(token.siteId), tx))!, replaced: others };
    });
    this.retired(replaced);
    const ws = new URL(this.config.publicUrl);
    ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
    ws.pathname = '/agent';
    return { agentId, siteId: String(site.id), siteName: site.name, controllerPublicKey: this.controllerPublicKeyPem, websocketUrl: ws.toString() };
  }

  // routers

  routerView(r: RouterRow) {
    return {
      id: String(r.id),
      name: r.name,
      siteId: String(r.site_id),
      siteName: r.site_name,
      host: r.host,
      health: {
        reachable: r.reachable,
        version: r.version,
        identity: r.identity,
        lastError: r.last_error,
        checkedAt: r.checked_at ? new Date(r.checked_at).toISOString() : null,
      },
      agentOnline: this.isOnline({ lastSeenAt: r.agent_last_seen_at ? new Date(r.agent_last_seen_at) : null }, r.agent_connected),
    };
  }

  async listRouters(filter: { siteId?: string | undefined }) {
    const rows = await this.routers.list(filter.siteId ? { siteId: filter.siteId } : {});
    return { items: rows.map((r) => this.routerView(r)), total: rows.length };
  }

  async getRouter(id: string) {
    const r = await this.routers.get(id);
    if (!r) throw notFound('Router');
    return this.routerView(r);
  }

  /** Renames a router (its name must match the agent's config file) or changes its host. */
  async updateRouter(meta: RequestMeta, id: string, input: { name?: string | undefined; host?: string | undefined }) {
    try {
      await this.db.transaction(async (tx) => {
        if (!(await this.routers.get(id, tx))) throw notFound('Router');
        await this.routers.update(id, { ...(input.name ? { name: input.name } : {}), ...(input.host !== undefined ? { host: input.host || null } : {}) }, tx);
        await this.audit.record(meta, 'router.update', 'router', id, input, tx);
      });
    } catch (err) {
      if (uniqueViolation(err)) throw conflict('This site already has a router with this name', 'name');
      throw err;
    }
    return this.getRouter(id);
  }

  /** Deletes a router no pool or plan uses any more (its job history goes with it). */
  async deleteRouter(meta: RequestMeta, id: string): Promise<void> {
    try {
      await this.db.transaction(async (tx) => {
        const router = await this.routers.get(id, tx);
        if (!router) throw notFound('Router');
        await this.routers.remove(id, tx);
        await this.audit.record(meta, 'router.delete', 'router', id, { name: router.name, siteId: String(router.site_id) }, tx);
      });
    } catch (err) {
      if (foreignKeyViolation(err)) throw new AppError(409, 'This router still carries pools or plans: move or delete them first');
      throw err;
    }
  }

  async createRouter(meta: RequestMeta, input: { name: string; siteId: string; host?: string | undefined }) {
    try {
      const id = await this.db.transaction(async (tx) => {
        if (!(await this.sites.findById(input.siteId, tx))) throw invalid('siteId', 'Site not found');
        const r = await this.routers.create({ siteId: input.siteId, name: input.name, host: input.host || null }, tx);
        await this.audit.record(meta, 'router.create', 'router', String(r.id), { name: r.name, siteId: input.siteId }, tx);
        return String(r.id);
      });
      return this.getRouter(id);
    } catch (err) {
      if (uniqueViolation(err)) throw conflict('This site already has a router with this name', 'name');
      throw err;
    }
  }
}
