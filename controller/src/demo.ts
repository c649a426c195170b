import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Services } from './container.ts';
import type { RequestMeta } from './http/route.ts';

/** Names the start script and the README rely on. */
export const DEMO = {
  site: 'Demo POP',
  router: 'demo-router',
  tokenFile: (dataDir: string) => path.join(dataDir, 'demo', 'enrollment-token'),
  /** The demo paybill on the Daraja fake (scripts/start.mjs starts the fake with the same credentials). */
  mpesa: { shortcode: '888888', consumerKey: 'demo-consumer-key', consumerSecret: 'demo-consumer-secret', passkey: 'demo-passkey' },
} as const;

/**
 * The demo site of `npm start`: on an empty database a site, its router, a /16 PPPoE pool, a /28
 * Static pool and one plan per connection type; and, while the site has no agent, a one-time
 * enrolment token in the data directory for the start script's agent.
 */
export async function seedDemo(s: Services): Promise<{ seeded: boolean; tokenFile?: string }> {
  const admin = (await s.db.rows<{ id: string; username: string }>(`SELECT id, username FROM users WHERE role = 'admin' ORDER BY id LIMIT 1`))[0];
  if (!admin) return { seeded: false };
  const meta: RequestMeta = {
    actor: { userId: String(admin.id), username: admin.username, role: 'admin', via: 'session' },
    requestId: 'demo-seed',
    ip: undefined,
  };
  let seeded = false;
  const sites = await s.sites.listSites();
  let site = sites.items.find((x) => x.name === DEMO.site);
  if (!site && sites.total === 0) {
    site = await s.sites.createSite(meta, { name: DEMO.site });
    const router = await s.sites.createRouter(meta, { name: DEMO.router, siteId: site.id, host: '127.0.0.1' });
    const pppoe = await s.pools.create(meta, {
      name: 'Demo PPPoE pool',
      routerId: router.id,
      networks: ['10.64.0.0/16'],
      gateway: '10.64.0.1',
      reserved: ['10.64.0.2-10.64.0.9'],
    });
    const stat = await s.pools.create(meta, { name: 'Demo Static pool', routerId: router.id, networks: ['172.16.10.0/28'], gateway: '172.16.10.1' });
    await s.plans.create(meta, {
      name: 'Home 10 Mbps',
      connectionType: 'pppoe',
      price: '1500',
      downloadSpeed: '10M',
      uploadSpeed: '5M',
      validity: { count: 30, unit: 'days' },
      poolIds: [pppoe.id],
    });
    await s.plans.create(meta, {
      name: 'Hotspot Daily 5 Mbps',
      connectionType: 'hotspot',
      price: '50',
      downloadSpeed: '5M',
      uploadSpeed: '2M',
      validity: { count: 1, unit: 'days' },
      sharedUsers: 1,
      routerIds: [router.id],
    });
    await s.plans.create(meta, {
      name: 'Business Static 20 Mbps',
      connectionType: 'static',
      price: '5000',
      downloadSpeed: '20M',
      uploadSpeed: '10M',
      validity: { count: 1, unit: 'months' },
      poolIds: [stat.id],
    });
    await s.settings.update(meta, { companyName: 'Mtandao Demo ISP', paybillNumber: '888888' });
    seeded = true;
  }
  if (s.config.darajaUrl) await seedDemoMpesa(s, meta);
  if (!site || site.agent) return { seeded };
  const token = await s.sites.createEnrollmentToken(meta, site.id);
  const file = DEMO.tokenFile(s.config.dataDir);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${token.token}\n`, { mode: 0o600 });
  return { seeded, tokenFile: file };
}

/**
 * With a Daraja fake (MTANDAO_DARAJA_URL): the demo paybill's settings, when none are set, and its
 * URLs registered at every start (the fake forgets them when it stops).
 */
async function seedDemoMpesa(s: Services, meta: RequestMeta): Promise<void> {
  const current = await s.mpesa.settings.view();
  if (!current.shortcode) {
    await s.mpesa.settings.update(meta, {
      environment: 'sandbox',
      shortcodeType: 'paybill',
      shortcode: DEMO.mpesa.shortcode,
      consumerKey: DEMO.mpesa.consumerKey,
      consumerSecret: DEMO.mpesa.consumerSecret,
      passkey: DEMO.mpesa.passkey,
      validationPolicy: 'accept-all',
    });
  }
  const reg = await s.mpesa.settings.registerUrls(meta).catch((err: unknown) => ({ ok: false, message: (err as Error).message }));
  if (reg.ok) s.logger.info({ darajaUrl: s.config.darajaUrl }, 'registered the M-Pesa callback URLs with Daraja');
  else s.logger.warn({ darajaUrl: s.config.darajaUrl, answer: reg.message }, 'could not register the M-Pesa callback URLs');
}
