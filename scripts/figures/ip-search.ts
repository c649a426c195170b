import type { Controller } from '../../controller/src/server.ts';
import { log, quantile, ms, Api, httpClient, figures, type Body } from '../lib/bench-kit.ts';

/** Figures 1 and 2: the available-IP prefix search on a /16 with 40 000 used and a /8 with 200 000 used. */
export async function benchIpSearch(c: Controller, api: Api): Promise<void> {
  log('IP search: filling a /16 with 40 000 and a /8 with 200 000 allocated addresses');
  const site = await api.ok('POST', '/sites', { name: 'IPAM bench' });
  const router = await api.ok('POST', '/routers', { name: 'ipam-router', siteId: site.id });
  const p16 = await api.ok<{ id: string; networks: Body[] }>('POST', '/pools', {
    name: 'bench /16',
    routerId: router.id,
    networks: ['172.20.0.0/16'],
    gateway: '172.20.0.1',
  });
  const p8 = await api.ok<{ id: string; networks: Body[] }>('POST', '/pools', {
    name: 'bench /8',
    routerId: router.id,
    networks: ['10.0.0.0/8'],
    gateway: '10.0.0.1',
  });
  const plan = await api.ok('POST', '/plans', {
    name: 'IPAM bench plan',
    connectionType: 'static',
    price: '1',
    downloadSpeed: '1M',
    uploadSpeed: '1M',
    validity: { count: 1, unit: 'days' },
    poolIds: [p16.id, p8.id],
  });
  const n16 = p16.networks[0]!.id as string;
  const n8 = p8.networks[0]!.id as string;
  // addresses scattered at random over the block (a real ISP's pool after years of churn)
  const fill = (networkId: string, base: string, size: number, count: number, tag: string) =>
    c.services.db.exec(
      `INSERT INTO customers (connection_type, plan_id, network_id, ip_address, full_name, phone, username, password_enc, account_number, status)
       SELECT 'static', $1, $2, $3::inet + off, 'Bench', '254700000000', $4 || off, 'v1:x', $4 || off, 'inactive'
         FROM (SELECT DISTINCT (2 + floor(random() * ($5 - 4)))::bigint AS off FROM generate_series(1, $6)) o
        WHERE $3::inet + off <> $7::inet ON CONFLICT DO NOTHING`,
      [plan.id, networkId, base, tag, size, count, base.replace(/\.0$/, '.1')],
    );
  // the /16: exactly 40 000 of its addresses, drawn without repeats
  await c.services.db.exec(
    `INSERT INTO customers (connection_type, plan_id, network_id, ip_address, full_name, phone, username, password_enc, account_number, status)
     SELECT 'static', $1, $2, '172.20.0.0'::inet + off, 'Bench', '254700000000', 'b16-' || off, 'v1:x', 'b16-' || off, 'inactive'
       FROM (SELECT off FROM generate_series(2, 65534) off ORDER BY random() LIMIT 40000) o`,
    [plan.id, n16],
  );
  // the /8 is too big to shuffle: draw a few more than needed, then trim
  await fill(n8, '10.0.0.0', 16777216, 203000, 'b8-');
  const used = async (id: string) => Number((await c.services.db.rows<{ n: string }>('SELECT count(*) AS n FROM customers WHERE network_id = $1', [id]))[0]!.n);
  // trim to the exact figures
  for (const [id, want] of [
    [n16, 40000],
    [n8, 200000],
  ] as const) {
    const extra = (await used(id)) - want;
    if (extra > 0)
      await c.services.db.exec('DELETE FROM customers WHERE id IN (SELECT id FROM customers WHERE network_id = $1 ORDER BY random() LIMIT $2)', [id, extra]);
  }
  await c.services.db.exec('ANALYZE customers');
  for (const [label, id, prefixes, target] of [
    ['available-IP prefix search, /16 with 40 000 used, median', n16, (r: () => number) => `172.20.${Math.floor(r() * 256)}`, 5],
    [
      'same on a /8 with 200 000 used, median',
      n8,
      (r: () => number) => (r() < 0.5 ? `10.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}` : `10.${Math.floor(r() * 256)}`),
      10,
    ],
  ] as const) {
    const u = await used(id);
    const paths = Array.from({ length: 330 }, () => `/api/v1/networks/${id}/available-ips?prefix=${prefixes(Math.random)}&limit=50`);
    const { times, results } = await httpClient({ base: c.url, cookie: api.cookie, paths, warmup: 30 });
    const median = quantile(times, 0.5);
    figures.push({
      figure: label,
      value: ms(median),
      target: `≤ ${target} ms`,
      pass: median <= target,
      detail: { used: u, p99: ms(quantile(times, 0.99)), queries: times.length, meanResults: Math.round(results / times.length) },
    });
  }
}
