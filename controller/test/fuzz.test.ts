import { expect } from 'chai';
import fc from 'fast-check';
import { apiRoutes } from '../src/routes/index.ts';
import type { RouteDef } from '../src/http/route.ts';
import { ApiClient, expectStatus } from './helpers/client.ts';
import { ADMIN_PASSWORD, startTestController } from './helpers/controller.ts';
import { Fixtures } from './helpers/fixtures.ts';
import { casesFor, type FuzzCase } from './helpers/fuzz.ts';

// Fuzzes every route of the table with requests made from its own zod schemas and with garbage,
// signed in as admin, and wants no 5xx at all. Seeded: FUZZ_SEED replays a run, FUZZ_RUNS sets the
// cases per route (10 000 unless said), FUZZ_ROUTE narrows to routes whose path contains it.
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_201);
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const ONLY = process.env.FUZZ_ROUTE;
const CONCURRENCY = 8;

type Body = Record<string, unknown>;

function withUsername(body: string | undefined, username: string): string | undefined {
  try {
    const v = JSON.parse(body ?? '') as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as Body).username === 'string') return JSON.stringify({ ...(v as Body), username });
  } catch {
    // not JSON: as it is
  }
  return body;
}

/** Routes that change the world for the ones after them go last. */
function order(routes: RouteDef[]): RouteDef[] {
  const rank = (r: RouteDef) => (r.path === '/settings' && r.method === 'patch' ? 3 : r.method === 'delete' ? 2 : r.path === '/auth/logout' ? 4 : 0);
  return [...routes].sort((a, b) => rank(a) - rank(b));
}

describe(`API fuzz (seed ${SEED}, ${RUNS} cases per route)`, function () {
  this.timeout(0);
  let controller: Awaited<ReturnType<typeof startTestController>>;
  let admin: ApiClient;
  let ids: string[];

  before(async () => {
    console.log(`      fuzz seed ${SEED} (FUZZ_SEED), ${RUNS} cases per route (FUZZ_RUNS)`);
    controller = await startTestController();
    admin = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
    const fx = new Fixtures(admin);
    const world = await fx.world();
    const customer = expectStatus(await admin.post('/customers', fx.customerBody(world.pppoe.id as string, { ipAddress: '10.64.0.9' })), 201) as Body;
    const staff = expectStatus(await admin.post('/users', { username: 'fuzz.staff', password: 'fuzz-staff-password', role: 'staff' }), 201) as Body;
    const me = expectStatus(await admin.get('/auth/me'), 200) as Body;
    // ids that exist (customers, plans, pools, networks, sites, routers, users) and some that do not
    ids = [
      ...new Set(
        [
          customer.id,
          world.site.id,
          world.router.id,
          world.pppoePool.id,
          world.pppoe.id,
          world.hotspot.id,
          world.static.id,
          world.pppoeNetworkId,
          staff.id,
          '999999',
        ].map(String),
      ),
    ].filter((id) => id !== String(me.id));
  });
  after(async () => {
    await controller?.stop();
  });

  async function send(r: RouteDef, c: FuzzCase): Promise<{ status: number; text: string } | undefined> {
    // the signed-in admin must stay signed in: never aim at their own account
    const headers: Record<string, string> = { ...c.headers, cookie: admin.cookie! };
    try {
      const res = await fetch(`${controller.url}/api/v1${c.path}${c.query}`, { method: r.method.toUpperCase(), headers, body: c.body });
      return { status: res.status, text: await res.text() };
    } catch (err) {
      // a request the client itself refuses to send (e.g. a header value it rejects) tests nothing
      if ((err as Error).name === 'TypeError' && !/fetch failed/.test((err as Error).message)) return undefined;
      throw err;
    }
  }

  const routes = order(apiRoutes({} as never)).filter((r) => !ONLY || r.path.includes(ONLY));
  routes.forEach((r, index) => {
    it(`${r.method.toUpperCase()} ${r.path}: no 5xx`, async () => {
      const started = Date.now();
      let cases = fc.sample(casesFor(r, ids), { seed: SEED + index, numRuns: RUNS });
      // sign-in attempts go to a few names, so the throttle answers most of them without a password hash
      if (r.path === '/auth/login') cases = cases.map((c, i) => ({ ...c, body: withUsername(c.body, ['fuzz.a', 'fuzz.b', 'admin'][i % 3]!) }));
      const failures: string[] = [];
      let next = 0;
      let sent = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < cases.length && failures.length < 5) {
            const c = cases[next++]!;
            const res = await send(r, c);
            if (!res) continue;
            sent++;
            if (res.status >= 500)
              failures.push(
                `${res.status} ${r.method.toUpperCase()} ${c.path}${c.query} ${JSON.stringify(c.headers)} body=${(c.body ?? '').slice(0, 300)} → ${res.text.slice(0, 300)}`,
              );
          }
        }),
      );
      expect(failures, `seed ${SEED + index}:\n${failures.join('\n')}`).to.deep.equal([]);
      expect(sent, 'requests the client refused to send').to.be.greaterThan(RUNS * 0.98);
      if (process.env.FUZZ_VERBOSE) console.log(`      ${sent} in ${Date.now() - started} ms`);
    });
  });
});
