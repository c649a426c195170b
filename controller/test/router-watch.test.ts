import { expect } from 'chai';
import type { EntryCounts, HealthMessage, RouterHealth } from '@mtandao/protocol';
import { entrySign, RouterWatch } from '../src/gateway/router-watch.ts';
import type { AgentHub } from '../src/gateway/hub.ts';
import type { ReconcileGate, ReconcileQueue } from '../src/gateway/reconcile-queue.ts';
import { createLogger } from '../src/logger.ts';
import type { HealthChange, RoutersRepository } from '../src/repositories/routers.repository.ts';
import { expectStatus } from './helpers/client.ts';
import { ADMIN_PASSWORD, startTestController } from './helpers/controller.ts';
import { ApiClient } from './helpers/client.ts';
import { Fixtures } from './helpers/fixtures.ts';

type Expected = Partial<Record<keyof EntryCounts, number>>;

describe('the sign that a router lost entries without restarting', () => {
  it('names each menu holding fewer entries than were applied there, in words', () => {
    expect(entrySign({ '/ppp/secret': 12, '/queue/simple': 3 }, { '/ppp/secret': 480, '/queue/simple': 3 })).to.equal(
      'the router holds 12 PPPoE secrets, 480 were applied',
    );
    expect(entrySign({ '/ip/hotspot/user': 0, '/ip/firewall/address-list': 1 }, { '/ip/hotspot/user': 2, '/ip/firewall/address-list': 4 })).to.equal(
      'the router holds 0 Hotspot users, 2 were applied; the router holds 1 address-list entries, 4 were applied',
    );
  });

  it('is silent when every menu holds at least what was applied, unmanaged entries included', () => {
    expect(entrySign({ '/ppp/secret': 480 }, { '/ppp/secret': 480 })).to.equal(undefined);
    expect(entrySign({ '/ppp/secret': 500, '/queue/simple': 0 }, { '/ppp/secret': 480 })).to.equal(undefined);
  });

  it('says nothing about a menu the router did not count', () => {
    expect(entrySign({ '/queue/simple': 5 }, { '/ppp/secret': 480, '/queue/simple': 5 })).to.equal(undefined);
  });
});

/** A RouterWatch over stand-ins that record what it asked. */
function watch(options: { before?: Partial<HealthChange['before']>; all?: Expected; settled?: Expected; throttleMs?: number } = {}) {
  const asked: { appliedBefore: Date | undefined }[] = [];
  const queued: { routerIds: string[]; reason: string; gate: ReconcileGate | undefined }[] = [];
  const routers = {
    updateHealth: async (_site: string, name: string): Promise<HealthChange> => ({
      routerId: '7',
      routerName: name,
      before: { version: '7.18.2', identity: 'core-1', uptimeSeconds: 100, countedAt: new Date(Date.now() - 30_000), ...options.before },
    }),
    expectedEntries: async (_id: string, appliedBefore?: Date): Promise<Expected> => {
      asked.push({ appliedBefore });
      return (appliedBefore ? options.settled : options.all) ?? {};
    },
  } as unknown as RoutersRepository;
  const reconciles = {
    queue: async (routerIds: string[], reason: string, gate?: ReconcileGate) => {
      queued.push({ routerIds, reason, gate });
      return routerIds;
    },
  } as unknown as ReconcileQueue;
  const w = new RouterWatch(reconciles, routers, {} as AgentHub, createLogger('silent'), {
    reconcileOnConnect: false,
    driftCheckMs: 0,
    throttleMs: options.throttleMs ?? 300_000,
  });
  const report = (r: Partial<RouterHealth>) => {
    const health: RouterHealth = {
      name: 'core-1',
      reachable: true,
      version: '7.18.2',
      identity: 'core-1',
      uptimeSeconds: 130,
      checkedAt: new Date().toISOString(),
      ...r,
    };
    return w.onHealth('1', { type: 'health', agentId: 'a1', routers: [health], at: new Date().toISOString() } satisfies HealthMessage);
  };
  return { report, asked, queued };
}

describe('RouterWatch and entry counts', () => {
  it('queues a reconcile of a router short of entries applied before the previous counts, and never one already on its way', async () => {
    const w = watch({ all: { '/ppp/secret': 481 }, settled: { '/ppp/secret': 480 } });
    await w.report({ entries: { '/ppp/secret': 12 } });
    expect(w.queued).to.deep.equal([
      { routerIds: ['7'], reason: 'the router holds 12 PPPoE secrets, 480 were applied: entries went missing', gate: { skipSent: true } },
    ]);
    expect(w.asked[1]?.appliedBefore).to.be.instanceOf(Date);
  });

  it('reads only the cheap count when the router holds every customer that belongs on it', async () => {
    const w = watch({ all: { '/ppp/secret': 480 }, settled: { '/ppp/secret': 480 } });
    await w.report({ entries: { '/ppp/secret': 480 } });
    expect(w.queued).to.deep.equal([]);
    expect(w.asked).to.deep.equal([{ appliedBefore: undefined }]);
  });

  it('expects nothing of customers applied since the previous counts: they may have landed after this count was read', async () => {
    const w = watch({ all: { '/ppp/secret': 13 }, settled: { '/ppp/secret': 12 } });
    await w.report({ entries: { '/ppp/secret': 12 } });
    expect(w.queued).to.deep.equal([]);
  });

  it('compares nothing on the first counts a router sends, nor on a report without counts', async () => {
    const first = watch({ before: { countedAt: null }, all: { '/ppp/secret': 480 }, settled: { '/ppp/secret': 480 } });
    await first.report({ entries: { '/ppp/secret': 0 } });
    const old = watch({ all: { '/ppp/secret': 480 }, settled: { '/ppp/secret': 480 } });
    await old.report({});
    expect([...first.queued, ...old.queued, ...first.asked, ...old.asked]).to.deep.equal([]);
  });

  it('queues one reconcile, for the restart, when a restarted router also comes back short', async () => {
    const w = watch({ all: { '/ppp/secret': 480 }, settled: { '/ppp/secret': 480 } });
    await w.report({ uptimeSeconds: 5, entries: { '/ppp/secret': 0 } });
    expect(w.queued.map((q) => q.reason)).to.deep.equal(['the router restarted (uptime 5 s, was 100 s): it may have lost its configuration']);
  });

  it('tries a router that stays short once per throttle interval, not on every report', async () => {
    const w = watch({ all: { '/ppp/secret': 480 }, settled: { '/ppp/secret': 480 } });
    for (let i = 0; i < 3; i++) await w.report({ entries: { '/ppp/secret': 0 } });
    expect(w.queued).to.have.length(1);
    const unthrottled = watch({ all: { '/ppp/secret': 480 }, settled: { '/ppp/secret': 480 }, throttleMs: 0 });
    for (let i = 0; i < 2; i++) await unthrottled.report({ entries: { '/ppp/secret': 0 } });
    expect(unthrottled.queued).to.have.length(2);
  });
});

describe('what a router must hold (database)', function () {
  this.timeout(300_000); // the embedded database starts and migrates here on the first spec that needs it
  let controller: Awaited<ReturnType<typeof startTestController>>;
  let world: Awaited<ReturnType<Fixtures['world']>>;
  let fx: Fixtures;
  let api: ApiClient;
  before(async () => {
    controller = await startTestController();
    api = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
    fx = new Fixtures(api);
    world = await fx.world();
  });
  after(async () => controller?.stop());

  it('counts customers per menu, and only those whose latest job there was applied before the given time', async () => {
    const ids: string[] = [];
    const add = async (body: Record<string, unknown>) => ids.push((expectStatus(await api.post('/customers', body), 201) as { id: string }).id);
    await add(fx.customerBody(world.pppoe.id as string, { ipAddress: '10.64.40.1' }));
    await add(fx.customerBody(world.pppoe.id as string, { ipAddress: '10.64.40.2' }));
    await add(fx.customerBody(world.hotspot.id as string, { connectionType: 'hotspot' }));
    await add(fx.customerBody(world.static.id as string, { connectionType: 'static', ipAddress: '172.16.10.5' }));
    const { db, repos } = controller.services;
    const routerId = world.router.id as string;
    expect(await repos.routers.expectedEntries(routerId)).to.deep.equal({
      '/ppp/secret': 2,
      '/ip/hotspot/user': 1,
      '/queue/simple': 1,
      '/ip/firewall/address-list': 1,
    });
    // no agent: every job is still pending, so none is expected yet
    const cutoff = new Date(Date.now() + 60_000);
    expect(await repos.routers.expectedEntries(routerId, cutoff)).to.deep.equal({});
    const settle = (id: string, status: string, completedAgoMs: number) =>
      db.rows(`UPDATE provisioning_jobs SET status = $2, completed_at = now() - $3::bigint * interval '1 millisecond' WHERE customer_id = $1`, [
        id,
        status,
        completedAgoMs,
      ]);
    await settle(ids[0]!, 'applied', 120_000);
    await settle(ids[1]!, 'applied', -120_000); // applied after the cutoff
    await settle(ids[2]!, 'failed', 120_000);
    await settle(ids[3]!, 'applied', 120_000);
    expect(await repos.routers.expectedEntries(routerId, new Date(Date.now() + 60_000))).to.deep.equal({
      '/ppp/secret': 1,
      '/queue/simple': 1,
      '/ip/firewall/address-list': 1,
    });
    // a newer job waiting for the first PPPoE customer (a plan change on its way): not expected until it lands
    await db.rows(
      `INSERT INTO provisioning_jobs (router_id, type, reason, customer_id, expires_at) VALUES ($1, 'customer.apply', 'test', $2, now() + interval '1 hour')`,
      [routerId, ids[0]],
    );
    expect(await repos.routers.expectedEntries(routerId, new Date(Date.now() + 60_000))).to.not.have.property('/ppp/secret');
  });
});
