import type { Controller } from '../../controller/src/server.ts';
import { log, Api, startSite, stopSite, enrolledAgent, figures } from '../lib/bench-kit.ts';

/** Figure 7: one plan change fanned out to 200 agents, all acknowledged. */
export async function benchFanout(c: Controller, api: Api): Promise<void> {
  const count = 200;
  log(`fan-out: enrolling ${count} agents`);
  const agents: { stateDir: string; routerName: string }[] = [];
  const routerIds: string[] = [];
  for (let i = 0; i < count; i++) {
    const site = await api.ok('POST', '/sites', { name: `Fan-out site ${i}` });
    const router = await api.ok('POST', '/routers', { name: `fan-${i}`, siteId: site.id });
    routerIds.push(router.id as string);
    agents.push({ stateDir: await enrolledAgent(api, c.url, site.id as string), routerName: `fan-${i}` });
  }
  const plan = await api.ok('POST', '/plans', {
    name: 'Fan-out plan',
    connectionType: 'hotspot',
    price: '50',
    downloadSpeed: '5M',
    uploadSpeed: '2M',
    validity: { count: 1, unit: 'days' },
    routerIds,
  });
  const child = await startSite({ latencyMs: 0, agents, agentsPerRouter: 20 });
  const waitSettled = async (since: string) => {
    for (;;) {
      const rows = await c.services.db.rows<{ n: string }>(`SELECT count(*) AS n FROM provisioning_jobs WHERE id > $1 AND status IN ('applied', 'failed')`, [
        since,
      ]);
      if (Number(rows[0]!.n) >= count) return;
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  await waitSettled('0'); // the plan's creation already fanned out once
  const maxId = (await c.services.db.rows<{ m: string }>('SELECT COALESCE(max(id), 0) AS m FROM provisioning_jobs'))[0]!.m;
  const t0 = performance.now();
  await api.ok('PATCH', `/plans/${plan.id}`, { downloadSpeed: '8M' });
  await waitSettled(String(maxId));
  const elapsed = performance.now() - t0;
  const applied = Number(
    (await c.services.db.rows<{ n: string }>(`SELECT count(*) AS n FROM provisioning_jobs WHERE id > $1 AND status = 'applied'`, [maxId]))[0]!.n,
  );
  figures.push({
    figure: 'one plan change fanned out to 200 agents, all acknowledged',
    value: `${(elapsed / 1000).toFixed(2)} s`,
    target: '≤ 2 s',
    pass: elapsed <= 2000 && applied === count,
    detail: { agents: count, applied },
  });
  await stopSite(child);
}
