import type { Controller } from '../../controller/src/server.ts';
import { pppoePlanBody } from '../lib/bench-api.ts';
import { pppoeCustomers, watchSecrets } from '../lib/bench-landing.ts';
import { log, quantile, ms, Api, startSite, stopSite, postClient, enrolledAgent, figures, type Body } from '../lib/bench-kit.ts';

/** Figures 3 and 4: add → applied on the emulator, one at a time and with 16 concurrent clients. */
export async function benchAdds(c: Controller, api: Api): Promise<void> {
  log('adds: one site, one agent, one emulated router');
  const site = await api.ok('POST', '/sites', { name: 'Adds bench' });
  const router = await api.ok('POST', '/routers', { name: 'adds-router', siteId: site.id });
  const pool = await api.ok<{ id: string; networks: Body[] }>('POST', '/pools', {
    name: 'adds pool',
    routerId: router.id,
    networks: ['100.64.0.0/12'],
    gateway: '100.64.0.1',
  });
  const plan = await api.ok('POST', '/plans', pppoePlanBody('Adds bench plan', pool.id));
  const networkId = pool.networks[0]!.id as string;
  const stateDir = await enrolledAgent(api, c.url, site.id as string);
  const child = await startSite({ latencyMs: 0, agents: [{ stateDir, routerName: 'adds-router' }], agentsPerRouter: 1 });
  // times are epoch milliseconds taken where things happen: the client process, the site process
  const { landed, landing: landedPromise } = watchSecrets(child);
  const body = pppoeCustomers(plan.id, networkId);
  const client = await postClient();
  const postOne = (name: string) => client.ask<{ sentAt: number }>({ t: 'post', base: c.url, cookie: api.cookie, path: '/api/v1/customers', body: body(name) });
  await new Promise((r) => setTimeout(r, 500)); // the plan's profile lands first
  for (let i = 0; i < 20; i++) {
    const wait = landedPromise(`warm${i}`);
    await postOne(`warm${i}`);
    await wait;
  }
  const lat: number[] = [];
  for (let i = 0; i < 300; i++) {
    const name = `lat${i}`;
    const wait = landedPromise(name);
    const { sentAt } = await postOne(name);
    await wait;
    lat.push(landed.get(name)! - sentAt);
  }
  const p50 = quantile(lat, 0.5);
  const p99 = quantile(lat, 0.99);
  figures.push({
    figure: 'add customer → applied on the emulator, p50 / p99',
    value: `${ms(p50)} / ${ms(p99)}`,
    target: '≤ 30 ms / ≤ 100 ms',
    pass: p50 <= 30 && p99 <= 100,
    detail: { adds: lat.length, measuredFrom: 'the POST leaving a client process', measuredTo: 'the secret appearing in the emulator process' },
  });

  const total = 3200;
  const names = Array.from({ length: total }, (_, i) => `load${i}`);
  const done = Promise.all(names.map(landedPromise));
  const load = await client.ask<{ startedAt: number; acceptedAt: number }>({
    t: 'load',
    base: c.url,
    cookie: api.cookie,
    path: '/api/v1/customers',
    bodies: names.map(body),
    concurrency: 16,
  });
  await done;
  const elapsed = Math.max(...names.map((n) => landed.get(n)!)) - load.startedAt;
  const rate = (total / elapsed) * 1000;
  figures.push({
    figure: 'sustained adds end-to-end, 16 concurrent clients',
    value: `${rate.toFixed(0)} customers/s`,
    target: '≥ 200 customers/s',
    pass: rate >= 200,
    detail: { customers: total, seconds: +(elapsed / 1000).toFixed(2), apiAcceptedPerSecond: Math.round((total / (load.acceptedAt - load.startedAt)) * 1000) },
  });
  client.stop();
  await stopSite(child);
}
