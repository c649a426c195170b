import { expect } from 'chai';
import { formatIp, parseIp, prefixRanges, subtractRanges, mergeRanges } from '../src/domain/ip-space.ts';
import { UsableSpace } from '../src/services/ipam.service.ts';
import { ApiClient, expectStatus } from './helpers/client.ts';
import { ADMIN_PASSWORD, startTestController } from './helpers/controller.ts';
import { Fixtures } from './helpers/fixtures.ts';

const texts = (ranges: [number, number][] | undefined) => ranges?.map(([a, b]) => `${formatIp(a)}-${formatIp(b)}`);

describe('IP address management', () => {
  describe('prefix ranges', () => {
    it('matches the octet being typed as text and complete octets exactly', () => {
      expect(texts(prefixRanges('10.0.3.1'))).to.deep.equal(['10.0.3.1-10.0.3.1', '10.0.3.10-10.0.3.19', '10.0.3.100-10.0.3.199']);
      expect(texts(prefixRanges('10.0.3.'))).to.deep.equal(['10.0.3.0-10.0.3.255']);
      expect(texts(prefixRanges('10.0.3'))).to.deep.equal(['10.0.3.0-10.0.3.255', '10.0.30.0-10.0.39.255']);
      expect(texts(prefixRanges('10.0.2.5'))).to.deep.equal(['10.0.2.5-10.0.2.5', '10.0.2.50-10.0.2.59']);
      expect(texts(prefixRanges('10.0.25'))).to.deep.equal(['10.0.25.0-10.0.25.255', '10.0.250.0-10.0.255.255']);
      expect(texts(prefixRanges('10.0.0'))).to.deep.equal(['10.0.0.0-10.0.0.255']);
      expect(texts(prefixRanges('1'))).to.deep.equal(['1.0.0.0-1.255.255.255', '10.0.0.0-19.255.255.255', '100.0.0.0-199.255.255.255']);
    });
    it('refuses text that cannot start an address', () => {
      for (const bad of ['abc', '10..3', '10.0.3.1.5', '300', '10.0.256', '10.01']) expect(prefixRanges(bad), bad).to.equal(undefined);
      expect(prefixRanges('10.0.3.999')).to.deep.equal(undefined);
    });
  });

  it('subtracts and merges ranges', () => {
    expect(
      subtractRanges(
        [[0, 100]],
        mergeRanges([
          [10, 20],
          [15, 30],
          [50, 50],
        ]),
      ),
    ).to.deep.equal([
      [0, 9],
      [31, 49],
      [51, 100],
    ]);
  });

  it('excludes network, broadcast, gateway and reserved addresses', () => {
    const space = new UsableSpace('192.168.1.0/28', '192.168.1.1', [[parseIp('192.168.1.5')!, parseIp('192.168.1.7')!]]);
    expect(space.size).to.equal(16 - 2 - 1 - 3);
    expect(space.contains(parseIp('192.168.1.0')!)).to.equal(false);
    expect(space.contains(parseIp('192.168.1.15')!)).to.equal(false);
    expect(space.contains(parseIp('192.168.1.6')!)).to.equal(false);
    expect(space.contains(parseIp('192.168.1.8')!)).to.equal(true);
  });

  describe('available-IP search against a brute-force answer', () => {
    let controller: Awaited<ReturnType<typeof startTestController>>;
    let api: ApiClient;
    let networkId: string;
    const taken = new Set<number>();
    const base = parseIp('10.80.0.0')!;

    before(async () => {
      controller = await startTestController();
      api = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
      const fx = new Fixtures(api);
      const site = await fx.site();
      const router = await fx.router(site.id as string);
      const pool = await fx.pool(router.id as string, ['10.80.0.0/16'], { gateway: '10.80.0.1', reserved: ['10.80.5.0-10.80.5.99'] });
      const plan = await fx.plan('static', { poolIds: [pool.id as string] });
      networkId = (pool.networks as { id: string }[])[0]!.id;
      // three full /24s, a nearly full one, then a random scatter
      for (let ip = base + 256; ip < base + 4 * 256; ip++) taken.add(ip);
      for (let ip = base + 4 * 256; ip < base + 5 * 256 - 3; ip++) taken.add(ip);
      // a fixed scatter (a seeded generator): every run tests the same addresses
      let x = 0x2f6b9e31;
      const next = () => (x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0) / 2 ** 32;
      for (let i = 0; i < 3000; i++) taken.add(base + 1280 + Math.floor(next() * 40000));
      const values = [...taken].map(
        (ip) => `('static', ${plan.id}, ${networkId}, '${formatIp(ip)}', 'x', '254700000000', 'u${ip}', 'v1:x', 'u${ip}', 'inactive')`,
      );
      for (let i = 0; i < values.length; i += 1000) {
        await controller.services.db.exec(
          `INSERT INTO customers (connection_type, plan_id, network_id, ip_address, full_name, phone, username, password_enc, account_number, status) VALUES ${values.slice(i, i + 1000).join(',')}`,
        );
      }
    });
    after(async () => controller.stop());

    function expected(prefix: string, limit: number): { ips: string[]; truncated: boolean } {
      // the rules written out here, not taken from the code under test: no network or broadcast
      // address, no gateway, nothing in the reserved range, nothing taken
      const usable = (ip: number) => ip !== base && ip !== base + 65535 && ip !== base + 1 && !(ip >= base + 5 * 256 && ip <= base + 5 * 256 + 99);
      const out: string[] = [];
      for (let ip = base; ip < base + 65536; ip++) {
        if (!usable(ip) || taken.has(ip) || !formatIp(ip).startsWith(prefix)) continue;
        if (out.length === limit) return { ips: out, truncated: true };
        out.push(formatIp(ip));
      }
      return { ips: out, truncated: false };
    }

    for (const [prefix, limit] of [
      ['10.80.1', 50],
      ['10.80.4', 10],
      ['10.80.5', 120],
      ['10.80.0.', 300],
      ['10.80.2', 5],
      ['10.80.', 100],
      ['10.80.13', 1024],
      ['10.80.200.2', 40],
      ['10.80.255.25', 20],
      ['', 7],
    ] as const) {
      it(`prefix "${prefix}", limit ${limit}`, async () => {
        const res = expectStatus(await api.get(`/networks/${networkId}/available-ips?prefix=${encodeURIComponent(prefix)}&limit=${limit}`), 200);
        expect(res).to.deep.equal(expected(prefix, limit));
      });
    }

    it('keeps the per-/24 counts equal to the customers through batch inserts, moves and deletes', async () => {
      const db = controller.services.db;
      const counts = () =>
        db.rows<{ chunk: string; used: number }>(
          `SELECT chunk::text, sum(used)::int AS used FROM network_chunks WHERE network_id = $1 GROUP BY chunk HAVING sum(used) <> 0 ORDER BY chunk`,
          [networkId],
        );
      const truth = () =>
        db.rows<{ chunk: string; used: number }>(
          `SELECT ((ip_address - '0.0.0.0'::inet) / 256)::text AS chunk, count(*)::int AS used FROM customers WHERE network_id = $1 GROUP BY 1 ORDER BY 1`,
          [networkId],
        );
      expect(await counts()).to.deep.equal(await truth());
      // one statement, several customers in the same chunk and stripe
      await db.exec(
        `INSERT INTO customers (connection_type, plan_id, network_id, ip_address, full_name, phone, username, password_enc, account_number, status)
         SELECT connection_type, plan_id, network_id, '10.80.250.0'::inet + 16 * g, 'x', '254700000000', 'chunk' || g, 'v1:x', 'chunk' || g, 'inactive'
           FROM (SELECT connection_type, plan_id, network_id FROM customers WHERE network_id = $1 LIMIT 1) c, generate_series(1, 12) g`,
        [networkId],
      );
      await db.exec(`UPDATE customers SET ip_address = '10.80.251.7' WHERE username = 'chunk3'`);
      await db.exec(`DELETE FROM customers WHERE username IN ('chunk5', 'chunk6')`);
      const after = await counts();
      expect(after).to.deep.equal(await truth());
      expect(after.find((c) => c.chunk === String((base + 250 * 256) / 256))?.used).to.equal(9);
    });

    it('lists a /24 and smaller whole by default', async () => {
      const fx = new Fixtures(api);
      const site = await fx.site();
      const router = await fx.router(site.id as string);
      const pool = await fx.pool(router.id as string, ['192.168.77.0/24'], { gateway: '192.168.77.1' });
      const res = expectStatus(await api.get(`/networks/${(pool.networks as { id: string }[])[0]!.id}/available-ips`), 200) as {
        ips: string[];
        truncated: boolean;
      };
      expect(res.ips).to.have.length(253);
      expect(res.truncated).to.equal(false);
    });

    it('names a bad prefix', async () => {
      const res = await api.get(`/networks/${networkId}/available-ips?prefix=abc`);
      expect(res.status).to.equal(422);
      expect((res.body as { error: { field: string } }).error.field).to.equal('prefix');
    });
  });
});
