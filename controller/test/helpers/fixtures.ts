import { ApiClient, expectStatus } from './client.ts';

type Body = Record<string, unknown>;
let seq = 0;
const unique = (stem: string) => `${stem}${++seq}${Date.now().toString(36).slice(-3)}`;

/** Builders of the usual world: a site, a router, pools and plans. */
export class Fixtures {
  constructor(readonly api: ApiClient) {}

  async site(name = unique('Site ')): Promise<Body> {
    return expectStatus(await this.api.post('/sites', { name }), 201) as Body;
  }
  async router(siteId: string, name = unique('router-')): Promise<Body> {
    return expectStatus(await this.api.post('/routers', { name, siteId }), 201) as Body;
  }
  async pool(routerId: string, networks: string[], extra: Body = {}): Promise<Body> {
    return expectStatus(await this.api.post('/pools', { name: unique('Pool '), routerId, networks, ...extra }), 201) as Body;
  }
  async plan(connectionType: 'pppoe' | 'hotspot' | 'static', links: { poolIds?: string[]; routerIds?: string[] }, extra: Body = {}): Promise<Body> {
    return expectStatus(
      await this.api.post('/plans', {
        name: unique(`${connectionType} plan `),
        connectionType,
        price: '1500.00',
        downloadSpeed: '10M',
        uploadSpeed: '5M',
        validity: { count: 30, unit: 'days' },
        ...links,
        ...extra,
      }),
      201,
    ) as Body;
  }

  /** A router with a PPPoE, a Hotspot and a Static plan. */
  async world(options: { pppoeNetworks?: string[]; staticNetworks?: string[] } = {}) {
    const site = await this.site();
    const router = await this.router(site.id as string);
    const pppoePool = await this.pool(router.id as string, options.pppoeNetworks ?? ['10.64.0.0/16'], {
      gateway: (options.pppoeNetworks?.[0] ?? '10.64.0.0/16').replace(/\.0\/\d+$/, '.1'),
    });
    const staticPool = await this.pool(router.id as string, options.staticNetworks ?? ['172.16.10.0/28'], {
      gateway: (options.staticNetworks?.[0] ?? '172.16.10.0/28').replace(/\.0\/\d+$/, '.1'),
    });
    const pppoe = await this.plan('pppoe', { poolIds: [pppoePool.id as string] });
    const hotspot = await this.plan('hotspot', { routerIds: [router.id as string] }, { sharedUsers: 1, validity: { count: 1, unit: 'days' }, price: '50' });
    const stat = await this.plan('static', { poolIds: [staticPool.id as string] });
    const networkOf = (pool: Body) => (pool.networks as Body[])[0]!.id as string;
    return { site, router, pppoePool, staticPool, pppoe, hotspot, static: stat, pppoeNetworkId: networkOf(pppoePool), staticNetworkId: networkOf(staticPool) };
  }

  customerBody(planId: string, extra: Body = {}): Body {
    const n = ++seq;
    return {
      connectionType: 'pppoe',
      planId,
      fullName: `Customer ${n}`,
      phone: `07${String(10_000_000 + ((n * 7919) % 89_999_999)).padStart(8, '0')}`,
      username: unique('cust'),
      payment: { method: 'cash' },
      autoActivate: true,
      ...extra,
    };
  }
}
