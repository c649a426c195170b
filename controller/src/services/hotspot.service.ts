import { strToU8, zipSync } from 'fflate';
import { VOUCHER_MARKER_PREFIX, type HotspotRouterReport } from '@mtandao/protocol';
import type { HotspotSessionView, JobView } from '@mtandao/protocol/api';
import type { Database } from '../db/database.ts';
import { notFound } from '../errors.ts';
import type { RequestMeta } from '../http/route.ts';
import type { Logger } from '../logger.ts';
import type { RoutersRepository } from '../repositories/routers.repository.ts';
import type { VouchersRepository } from '../repositories/vouchers.repository.ts';
import type { AuditService } from './audit.service.ts';
import type { ProvisioningService } from './provisioning.service.ts';

/**
 * The `login.html` a router serves to a device that is not logged in: it sends the device straight
 * to the portal, carrying MikroTik's variables (`$(…)` is filled in by the router). A form, so it
 * works without JavaScript too (one tap on "Continue").
 */
export function loginHtml(portalUrl: string): string {
  const vars = ['mac', 'ip', 'link-login-only', 'chap-id', 'chap-challenge', 'link-orig', 'error', 'username'];
  const inputs = vars.map((v) => `<input type="hidden" name="${v === 'link-orig' ? 'dst' : v}" value="$(${v})">`).join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Internet</title>
<meta http-equiv="pragma" content="no-cache"><meta http-equiv="expires" content="-1"></head>
<body style="font-family:sans-serif;text-align:center;padding-top:3em">
<form name="portal" action="${portalUrl}" method="get">
${inputs}
<p>Opening the Internet packages…</p><button type="submit">Continue</button>
</form>
<script>document.portal.submit();</script>
</body></html>
`;
}

/** Who is online, what vouchers used (as agents report it), and the router's hotspot files. */
export class HotspotService {
  constructor(
    private readonly db: Database,
    private readonly repo: VouchersRepository,
    private readonly routers: RoutersRepository,
    private readonly provisioning: ProvisioningService,
    private readonly audit: AuditService,
    private readonly logger: Logger,
    private readonly publicUrl: () => string,
    /** Queues vouchers for a router again (the vouchers service). */
    private readonly resend: (routerId: string, live: { planId: string; ids: string[] }[]) => Promise<void>,
  ) {}

  /** An agent's hotspot report: the router's online list replaced, voucher use recorded. */
  async report(siteId: string, report: HotspotRouterReport): Promise<void> {
    const routerId = await this.repo.routerAt(siteId, report.name);
    if (!routerId) return;
    const readAt = new Date(report.readAt);
    await this.repo.replaceSessions(
      routerId,
      report.active.map((s) => ({ mac: s.macAddress, user: s.user, address: s.address, uptime: s.uptimeSeconds, bytesIn: s.bytesIn, bytesOut: s.bytesOut })),
      readAt,
      report.part === 0,
    );
    const uses = report.users
      .filter((u) => u.comment.startsWith(VOUCHER_MARKER_PREFIX))
      .map((u) => ({ voucherId: u.comment.slice(VOUCHER_MARKER_PREFIX.length), uptimeSeconds: u.uptimeSeconds, bytesIn: u.bytesIn, bytesOut: u.bytesOut }))
      .filter((u) => /^\d{1,18}$/.test(u.voucherId));
    // a device online now counts as used even before its user's counters move
    const online = new Set(report.active.map((s) => s.user.toUpperCase()));
    await this.repo.recordUse(uses, readAt);
    if (online.size > 0) await this.repo.recordOnline([...online], readAt);
    this.logger.debug({ routerId, sessions: report.active.length, vouchers: uses.length }, 'hotspot report');
    // a router holding fewer voucher users than are live lost some (reset, replaced): send them again
    if (report.part === 0 && report.vouchersOnRouter !== undefined) {
      const live = await this.repo.liveOnRouter(routerId);
      const expected = live?.reduce((n, p) => n + p.ids.length, 0) ?? 0;
      if (live && report.vouchersOnRouter < expected) {
        this.logger.warn({ routerId, onRouter: report.vouchersOnRouter, expected }, 'the router lost voucher users; sending them again');
        await this.resend(routerId, live);
      }
    }
  }

  async sessions(routerId: string): Promise<{ items: HotspotSessionView[]; total: number }> {
    if (!(await this.routers.get(routerId))) throw notFound('Router');
    const rows = await this.repo.sessions(routerId);
    return {
      items: rows.map((r) => ({
        user: r.username,
        macAddress: r.mac_address,
        address: r.address,
        uptimeSeconds: Number(r.uptime_seconds),
        bytesIn: Number(r.bytes_in),
        bytesOut: Number(r.bytes_out),
        voucherId: r.voucher_id ? String(r.voucher_id) : null,
        customerId: r.customer_id ? String(r.customer_id) : null,
        readAt: new Date(r.read_at).toISOString(),
      })),
      total: rows.length,
    };
  }

  /** Asks the router's agent to read its hotspot now (the answer arrives as a report). */
  async refresh(meta: RequestMeta, routerId: string): Promise<JobView> {
    if (!(await this.routers.get(routerId))) throw notFound('Router');
    const [jobId] = await this.db.transaction((tx) =>
      this.provisioning.enqueue(tx, [{ routerId, type: 'hotspot.read', reason: `hotspot read by ${meta.actor.username}` }], meta.actor.userId),
    );
    return this.provisioning.get(jobId!);
  }

  /** The portal's host, as the walled garden must let it through. */
  portalHost(): string {
    return new URL(this.publicUrl()).hostname;
  }

  /** Queues the walled-garden entry for the portal on a router. */
  async setup(meta: RequestMeta | null, routerId: string): Promise<JobView> {
    if (!(await this.routers.get(routerId))) throw notFound('Router');
    const [jobId] = await this.db.transaction(async (tx) => {
      const ids = await this.provisioning.enqueue(
        tx,
        [{ routerId, type: 'hotspot.setup', reason: 'portal host in the walled garden', payload: { portalHosts: [this.portalHost()] } }],
        meta?.actor.userId ?? null,
      );
      await this.audit.record(meta, 'router.hotspot-setup', 'router', routerId, { portalHost: this.portalHost() }, tx);
      return ids;
    });
    return this.provisioning.get(jobId!);
  }

  /** `hotspot-files.zip`: the login.html that sends devices to this router's site portal. */
  async filesZip(routerId: string): Promise<Buffer> {
    const router = await this.routers.get(routerId);
    if (!router) throw notFound('Router');
    const portal = `${this.publicUrl().replace(/\/+$/, '')}/portal/${router.site_id}`;
    const zip = zipSync({ hotspot: { 'login.html': strToU8(loginHtml(portal)) } });
    return Buffer.from(zip);
  }
}
