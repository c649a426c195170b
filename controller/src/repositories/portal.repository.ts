import type { Database } from '../db/database.ts';

/** A hotspot plan a site's portal sells. */
export interface PortalPlanRow {
  id: string;
  name: string;
  price_minor: string;
  validity_count: number;
  validity_unit: string;
  data_limit_bytes: string | null;
}

/** A portal purchase with its prompt and customer. */
export interface PurchaseRow {
  id: string;
  token: string;
  site_id: string;
  plan_id: string;
  customer_id: string;
  checkout_request_id: string;
  mac_address: string;
  login: Record<string, string>;
  stk_status: string;
  stk_result_desc: string | null;
  customer_status: string;
  username: string;
  job_status: string | null;
}

/** SQL of the captive portal: plans of a site, hotspot customers by phone, purchases. */
export class PortalRepository {
  constructor(private readonly db: Database) {}

  async siteExists(siteId: string): Promise<string | undefined> {
    const [row] = await this.db.rows<{ name: string }>('SELECT name FROM sites WHERE id = $1', [siteId]);
    return row?.name;
  }

  /** Hotspot plans on any router of the site, cheapest first. */
  async plansOfSite(siteId: string): Promise<PortalPlanRow[]> {
    return this.db.rows<PortalPlanRow>(
      `SELECT DISTINCT p.id, p.name, p.price_minor, p.validity_count, p.validity_unit, p.data_limit_bytes
         FROM plans p JOIN plan_routers pr ON pr.plan_id = p.id JOIN routers r ON r.id = pr.router_id
        WHERE r.site_id = $1 AND p.connection_type = 'hotspot' AND p.price_minor > 0 ORDER BY p.price_minor, p.id`,
      [siteId],
    );
  }

  /** The hotspot customer a phone (or, failing that, a device) bought with before. */
  async customerOf(phone: string, mac: string): Promise<{ id: string; plan_id: string; status: string; expires_at: Date | null } | undefined> {
    const [row] = await this.db.rows<{ id: string; plan_id: string; status: string; expires_at: Date | null }>(
      `SELECT c.id, c.plan_id, c.status, c.expires_at FROM customers c
        WHERE c.connection_type = 'hotspot' AND (c.phone = $1 OR c.id = (SELECT customer_id FROM portal_purchases WHERE mac_address = $2 ORDER BY created_at DESC LIMIT 1))
        ORDER BY (c.phone = $1) DESC, c.id DESC LIMIT 1`,
      [phone, mac],
    );
    return row;
  }

  /** A returning buyer whose period is over may pick another package. */
  async setPlan(customerId: string, planId: string): Promise<void> {
    await this.db.exec("UPDATE customers SET plan_id = $2, updated_at = now() WHERE id = $1 AND status <> 'active'", [customerId, planId]);
  }

  /** A purchase of this customer whose prompt is still open (a second tap must not send a second prompt). */
  async openPurchase(siteId: string, customerId: string): Promise<string | undefined> {
    const [row] = await this.db.rows<{ token: string }>(
      `SELECT pp.token FROM portal_purchases pp JOIN mpesa_stk_requests s ON s.checkout_request_id = pp.checkout_request_id
        WHERE pp.site_id = $1 AND pp.customer_id = $2 AND s.status = 'pending' AND pp.created_at > now() - interval '2 minutes'
        ORDER BY pp.id DESC LIMIT 1`,
      [siteId, customerId],
    );
    return row?.token;
  }

  async createPurchase(p: {
    token: string;
    siteId: string;
    planId: string;
    customerId: string;
    checkoutRequestId: string;
    mac: string;
    ip: string | null;
    login: Record<string, string>;
  }): Promise<void> {
    await this.db.exec(
      'INSERT INTO portal_purchases (token, site_id, plan_id, customer_id, checkout_request_id, mac_address, ip_address, login) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)',
      [p.token, p.siteId, p.planId, p.customerId, p.checkoutRequestId, p.mac, p.ip, JSON.stringify(p.login)],
    );
  }

  /** A purchase with its prompt's state, its customer, and the customer's latest router job. */
  async purchase(siteId: string, token: string): Promise<PurchaseRow | undefined> {
    const [row] = await this.db.rows<PurchaseRow>(
      `SELECT pp.*, pp.mac_address, s.status AS stk_status, s.result_desc AS stk_result_desc, c.status AS customer_status, c.username,
              (SELECT j.status FROM provisioning_jobs j WHERE j.customer_id = c.id AND j.created_at >= pp.created_at ORDER BY j.id DESC LIMIT 1) AS job_status
         FROM portal_purchases pp JOIN mpesa_stk_requests s ON s.checkout_request_id = pp.checkout_request_id JOIN customers c ON c.id = pp.customer_id
        WHERE pp.site_id = $1 AND pp.token = $2`,
      [siteId, token],
    );
    return row;
  }

  /** An active hotspot customer of a site's plans, by username. */
  async customerAt(siteId: string, username: string): Promise<{ id: string } | undefined> {
    const [row] = await this.db.rows<{ id: string }>(
      `SELECT c.id FROM customers c
        WHERE lower(c.username) = lower($2) AND c.connection_type = 'hotspot' AND c.status = 'active'
          AND EXISTS (SELECT 1 FROM plan_routers pr JOIN routers r ON r.id = pr.router_id WHERE pr.plan_id = c.plan_id AND r.site_id = $1)`,
      [siteId, username],
    );
    return row;
  }

  /** A voucher a site's portal accepts: by code, on a plan of one of the site's routers. */
  async voucherAt(siteId: string, code: string): Promise<{ id: string; code: string; status: string } | undefined> {
    const [row] = await this.db.rows<{ id: string; code: string; status: string }>(
      `SELECT v.id, v.code, v.status FROM vouchers v
        WHERE upper(v.code) = upper($2) AND EXISTS (SELECT 1 FROM plan_routers pr JOIN routers r ON r.id = pr.router_id WHERE pr.plan_id = v.plan_id AND r.site_id = $1)`,
      [siteId, code],
    );
    return row;
  }
}
