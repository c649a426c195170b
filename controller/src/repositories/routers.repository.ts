import type { Transaction } from 'sequelize';
import type { CountedMenu } from '@mtandao/protocol';
import { RouterModel } from '../db/models/index.ts';
import type { Database } from '../db/database.ts';
import { ON_ROUTER } from './customers.repository.ts';

/** A router with its site and the site's current agent. */
export interface RouterRow {
  id: string;
  name: string;
  site_id: string;
  site_name: string;
  host: string | null;
  reachable: boolean | null;
  version: string | null;
  identity: string | null;
  last_error: string | null;
  checked_at: Date | null;
  agent_id: string | null;
  agent_last_seen_at: Date | null;
  agent_connected: boolean;
}

const SELECT = `
  SELECT r.id, r.name, r.site_id, s.name AS site_name, r.host, r.reachable, r.version, r.identity, r.last_error, r.checked_at,
         a.id AS agent_id, a.last_seen_at AS agent_last_seen_at, (a.connected_instance IS NOT NULL) AS agent_connected
    FROM routers r
    JOIN sites s ON s.id = r.site_id
    LEFT JOIN LATERAL (SELECT * FROM agents WHERE site_id = r.site_id AND revoked_at IS NULL ORDER BY created_at DESC LIMIT 1) a ON true`;

/** A router's health as it was before a report, to tell a restart from a tick. */
export interface HealthChange {
  routerId: string;
  routerName: string;
  /** `countedAt`: when the previous entry counts arrived (controller clock), null before any. */
  before: { version: string | null; identity: string | null; uptimeSeconds: number | null; countedAt: Date | null };
}

/** The menu each kind of customer has entries in (SPEC section 7). */
const MENUS_OF: Readonly<Record<string, readonly CountedMenu[]>> = {
  pppoe: ['/ppp/secret'],
  hotspot: ['/ip/hotspot/user'],
  static: ['/queue/simple', '/ip/firewall/address-list'],
};

export class RoutersRepository {
  constructor(private readonly db: Database) {}

  list(filter: { siteId?: string } = {}): Promise<RouterRow[]> {
    return filter.siteId
      ? this.db.rows<RouterRow>(`${SELECT} WHERE r.site_id = $1 ORDER BY s.name, r.name`, [filter.siteId])
      : this.db.rows<RouterRow>(`${SELECT} ORDER BY s.name, r.name`);
  }
  async get(id: string, tx?: Transaction): Promise<RouterRow | undefined> {
    return (await this.db.rows<RouterRow>(`${SELECT} WHERE r.id = $1`, [id], tx))[0];
  }
  async existing(ids: string[], tx?: Transaction): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await RouterModel.findAll({ where: { id: ids }, attributes: ['id'], transaction: tx });
    return rows.map((r) => String(r.id));
  }
  create(data: { siteId: string; name: string; host: string | null }, tx?: Transaction): Promise<RouterModel> {
    return RouterModel.create({ ...data, reachable: null, version: null, identity: null, lastError: null, checkedAt: null }, { transaction: tx });
  }
  async update(id: string, patch: { name?: string; host?: string | null }, tx: Transaction): Promise<void> {
    await RouterModel.update({ ...patch, updatedAt: new Date() }, { where: { id }, transaction: tx });
  }
  async remove(id: string, tx: Transaction): Promise<void> {
    await RouterModel.destroy({ where: { id }, transaction: tx });
  }
  /** Records a health report; returns the router and what it said before (to spot a restart). */
  async updateHealth(
    siteId: string,
    name: string,
    health: {
      reachable: boolean;
      version: string | null;
      identity: string | null;
      uptimeSeconds: number | null;
      lastError: string | null;
      checkedAt: Date;
      /** The report carries entry counts: remember when they arrived. */
      counted?: boolean;
    },
  ): Promise<HealthChange | undefined> {
    const rows = await this.db.rows<{
      id: string;
      name: string;
      old_version: string | null;
      old_identity: string | null;
      old_uptime: string | null;
      old_counted_at: Date | null;
    }>(
      `WITH old AS (SELECT id, version, identity, uptime_seconds, counted_at FROM routers WHERE site_id = $1 AND lower(name) = lower($2) FOR UPDATE)
       UPDATE routers r SET reachable = $3, version = COALESCE($4, r.version), identity = COALESCE($5, r.identity), uptime_seconds = COALESCE($8, r.uptime_seconds),
              last_error = $6, checked_at = $7, counted_at = CASE WHEN $9::boolean THEN now() ELSE r.counted_at END, updated_at = now()
         FROM old WHERE r.id = old.id
       RETURNING r.id, r.name, old.version AS old_version, old.identity AS old_identity, old.uptime_seconds AS old_uptime, old.counted_at AS old_counted_at`,
      [siteId, name, health.reachable, health.version, health.identity, health.lastError, health.checkedAt, health.uptimeSeconds, health.counted ?? false],
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      routerId: String(r.id),
      routerName: r.name,
      before: {
        version: r.old_version,
        identity: r.old_identity,
        uptimeSeconds: r.old_uptime === null ? null : Number(r.old_uptime),
        countedAt: r.old_counted_at === null ? null : new Date(r.old_counted_at),
      },
    };
  }

  /**
   * How many entries each customer menu of a router must hold: its customers, as many as there
   * are, or only those whose latest job on it was applied before `appliedBefore` (the time
   * earlier counts arrived: their entries were written before the counts now compared were read).
   * A customer with a job pending, in flight or failed, or none yet, is left out: its entry may
   * not be there, and expecting too few can only miss a loss, never invent one.
   */
  async expectedEntries(routerId: string, appliedBefore?: Date): Promise<Partial<Record<CountedMenu, number>>> {
    const settled = appliedBefore
      ? `AND (SELECT j.status = 'applied' AND j.completed_at < $2 FROM provisioning_jobs j
               WHERE j.customer_id = c.id AND j.router_id = $1 ORDER BY j.id DESC LIMIT 1)`
      : '';
    const rows = await this.db.rows<{ connection_type: string; n: string }>(
      `SELECT c.connection_type, count(*) AS n ${ON_ROUTER} ${settled} GROUP BY c.connection_type`,
      appliedBefore ? [routerId, appliedBefore] : [routerId],
    );
    const out: Partial<Record<CountedMenu, number>> = {};
    for (const r of rows) for (const menu of MENUS_OF[r.connection_type] ?? []) out[menu] = (out[menu] ?? 0) + Number(r.n);
    return out;
  }

  /** The routers of a site, id and name (for log lines that join with the agent's). */
  async ofSite(siteId: string): Promise<{ routerId: string; routerName: string }[]> {
    return (await this.db.rows<{ id: string; name: string }>('SELECT id, name FROM routers WHERE site_id = $1 ORDER BY id', [siteId])).map((r) => ({
      routerId: String(r.id),
      routerName: r.name,
    }));
  }

  /** The routers of a site. */
  async idsOfSite(siteId: string): Promise<string[]> {
    return (await this.db.rows<{ id: string }>('SELECT id FROM routers WHERE site_id = $1 ORDER BY id', [siteId])).map((r) => String(r.id));
  }
}
