import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { apiRoutes } from '../src/routes/index.ts';
import type { RouteDef } from '../src/http/route.ts';
import { ApiClient, expectStatus } from './helpers/client.ts';
import { ADMIN_PASSWORD, startTestController } from './helpers/controller.ts';
import { Fixtures } from './helpers/fixtures.ts';

type Body = Record<string, unknown>;

describe('security', () => {
  let controller: Awaited<ReturnType<typeof startTestController>>;
  let admin: ApiClient;
  let staff: ApiClient;
  let noc: ApiClient;
  let routes: RouteDef[];
  let world: Awaited<ReturnType<Fixtures['world']>>;
  let customerId: string;

  before(async function () {
    this.timeout(120_000); // scrypt for three accounts and a whole world, on a busy machine
    controller = await startTestController();
    admin = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
    for (const [username, role] of [
      ['staff1', 'staff'],
      ['noc1', 'noc'],
    ]) {
      expectStatus(await admin.post('/users', { username, password: `${username}-password`, role }), 201);
    }
    staff = await new ApiClient(controller.url).login('staff1', 'staff1-password');
    noc = await new ApiClient(controller.url).login('noc1', 'noc1-password');
    const fx = new Fixtures(admin);
    world = await fx.world();
    customerId = (expectStatus(await admin.post('/customers', fx.customerBody(world.pppoe.id as string, { ipAddress: '10.64.0.50' })), 201) as Body)
      .id as string;
    routes = apiRoutes(controller.services);
  });
  after(async () => controller.stop());

  const concrete = (path: string, id: string) => path.replace(/:id\b/g, id);
  /**
   * What a read may answer when its :id is a customer's: 200, or 404 when nothing of its kind has
   * that id; the router read-back needs the router's agent, offline here (409).
   */
  // reads that need a query (a name or phone, an amount) are the same 422 for everyone
  const READ_STATUS: Record<string, number[]> = {
    'get /routers/:id/entries': [409, 404],
    'get /customers/generate-username': [422],
    'get /customers/:id/payment-preview': [422],
  };

  describe('login', () => {
    it('gives one message for an unknown user and a wrong password', async () => {
      const a = await new ApiClient(controller.url).post('/auth/login', { username: 'nobody', password: 'whatever-pw' });
      const b = await new ApiClient(controller.url).post('/auth/login', { username: 'admin', password: 'wrong-password' });
      expect(a.status).to.equal(401);
      expect(b.status).to.equal(401);
      expect((a.body as Body).error).to.deep.include({ message: 'Invalid username or password' });
      expect((b.body as Body).error).to.deep.equal((a.body as Body).error);
    });

    it('sets an HttpOnly, SameSite=Strict cookie and rotates the session id at login', async () => {
      const c = new ApiClient(controller.url);
      const res = await c.post('/auth/login', { username: 'staff1', password: 'staff1-password' });
      const header = res.headers.get('set-cookie')!;
      expect(header)
        .to.match(/HttpOnly/)
        .and.match(/SameSite=Strict/)
        .and.match(/Path=\//);
      const first = c.cookie;
      await c.post('/auth/login', { username: 'staff1', password: 'staff1-password' });
      expect(c.cookie).to.not.equal(first);
      const old = new ApiClient(controller.url);
      old.cookie = first;
      expect((await old.get('/auth/me')).status).to.equal(401);
      expect((await c.get('/auth/me')).status).to.equal(200);
    });

    it('throttles an account after repeated failures, known or not', async () => {
      const c = new ApiClient(controller.url);
      for (let i = 0; i < 5; i++) expect((await c.post('/auth/login', { username: 'ghost-user', password: 'nope-nope' })).status).to.equal(401);
      const locked = await c.post('/auth/login', { username: 'ghost-user', password: 'nope-nope' });
      expect(locked.status).to.equal(429);
      expect(((locked.body as Body).error as Body).message).to.match(/Too many failed sign-in attempts/);
    });

    it('logs out and the cookie stops working', async () => {
      const c = await new ApiClient(controller.url).login('staff1', 'staff1-password');
      const cookie = c.cookie;
      expectStatus(await c.post('/auth/logout'), 200);
      const again = new ApiClient(controller.url);
      again.cookie = cookie;
      expect((await again.get('/auth/me')).status).to.equal(401);
    });

    it('ends a session at once on this instance when its user is disabled or changes role, even one used a moment ago', async () => {
      const admin = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
      const user = expectStatus(await admin.post('/users', { username: 'cached.staff', password: 'cached-staff-password', role: 'staff' }), 201) as Body;
      for (const change of [{ disabled: true }, { role: 'noc' }]) {
        if ('role' in change) expectStatus(await admin.patch(`/users/${user.id}`, { disabled: false, role: 'staff' }), 200);
        const c = await new ApiClient(controller.url).login('cached.staff', 'cached-staff-password');
        expect((await c.get('/auth/me')).status).to.equal(200); // read, and kept for a second
        expectStatus(await admin.patch(`/users/${user.id}`, change), 200);
        expect((await c.get('/auth/me')).status, JSON.stringify(change)).to.equal(401);
      }
    });

    it('expires idle sessions', async () => {
      const c = await new ApiClient(controller.url).login('staff1', 'staff1-password');
      await controller.services.db.exec(
        `UPDATE sessions SET last_seen_at = now() - interval '1 day' WHERE id = (SELECT id FROM sessions ORDER BY created_at DESC LIMIT 1)`,
      );
      expect((await c.get('/auth/me')).status).to.equal(401);
    });
  });

  describe('API tokens', () => {
    it('work as Bearer tokens with the role of their owner, and stop when revoked', async () => {
      const created = expectStatus(await noc.post('/auth/tokens', { name: 'grafana' }), 201) as Body;
      const t = new ApiClient(controller.url);
      t.token = created.token as string;
      expectStatus(await t.get('/customers'), 200);
      expect((await t.post('/sites', { name: 'X' })).status).to.equal(403);
      expectStatus(await noc.delete(`/auth/tokens/${created.id}`), 200);
      expect((await t.get('/customers')).status).to.equal(401);
      const bad = new ApiClient(controller.url);
      bad.token = `mt_${randomBytes(20).toString('hex')}`;
      expect((await bad.get('/customers')).status).to.equal(401);
    });
  });

  describe('deny by default, from the route table itself', () => {
    it('has an access level on every route, and every write is admin or staff only', () => {
      expect(routes.length).to.be.greaterThan(30);
      for (const r of routes) {
        expect(['public', 'read', 'write', 'reveal', 'admin'], `${r.method} ${r.path}`).to.include(r.access);
        if (
          r.method !== 'get' &&
          !['/auth/login', '/auth/logout', '/agents/enroll', '/auth/tokens', '/auth/tokens/:id', '/sms/delivery-report/:token'].includes(r.path)
        ) {
          expect(['write', 'admin'], `${r.method} ${r.path}`).to.include(r.access);
        }
      }
    });

    it('answers 401 to every non-public route without a session', async () => {
      const anon = new ApiClient(controller.url);
      for (const r of routes.filter((x) => x.access !== 'public')) {
        const res = await anon.request(r.method.toUpperCase(), concrete(r.path, customerId), r.method === 'get' ? undefined : {});
        expect(res.status, `${r.method} ${r.path}`).to.equal(401);
      }
    });

    it('gives noc 403 on every write and on reveals, and lets it read', async () => {
      for (const r of routes) {
        if (r.access === 'public' || r.path.startsWith('/auth/')) continue;
        const res = await noc.request(r.method.toUpperCase(), concrete(r.path, customerId), r.method === 'get' ? undefined : {});
        if (r.access === 'read') {
          // exactly what an admin gets for the same read: 200, or the 404/409 of an id that is not this kind
          const asAdmin = await admin.request(r.method.toUpperCase(), concrete(r.path, customerId), r.method === 'get' ? undefined : {});
          expect(res.status, `${r.method} ${r.path} ${JSON.stringify(res.body)}`).to.equal(asAdmin.status);
          expect(READ_STATUS[`${r.method} ${r.path}`] ?? [200, 404], `${r.method} ${r.path} ${JSON.stringify(res.body)}`).to.include(res.status);
        } else expect(res.status, `${r.method} ${r.path}`).to.equal(403);
      }
    });

    it('keeps admin-only routes from staff', async () => {
      for (const r of routes.filter((x) => x.access === 'admin')) {
        const res = await staff.request(r.method.toUpperCase(), concrete(r.path, customerId), r.method === 'get' ? undefined : {});
        expect(res.status, `${r.method} ${r.path}`).to.equal(403);
      }
    });
  });

  it('refuses a cross-origin state-changing request', async () => {
    const res = await staff.post('/sites', { name: 'Evil POP' }, { origin: 'https://evil.example' });
    expect(res.status).to.equal(403);
    expect(((res.body as Body).error as Body).message).to.equal('Cross-origin request refused');
    const ok = await staff.post('/sites', { name: 'Good POP' }, { origin: `http://localhost:${controller.config.dashboardPort}` });
    expect(ok.status).to.equal(201);
  });

  describe('bad input of any shape', () => {
    // bodiless writes that succeed by design (a new callback token, registering URLs with Daraja)
    const SKIP = new Set(['/auth/login', '/auth/logout', '/settings/mpesa/regenerate-token', '/settings/mpesa/register-urls']);

    async function snapshot(): Promise<Record<string, number>> {
      const tables = await controller.services.db.rows<{ tablename: string }>(
        `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN ('sessions', 'login_throttle', 'agent_nonces', 'schema_migrations')`,
      );
      const out: Record<string, number> = {};
      for (const { tablename } of tables)
        out[tablename] = Number((await controller.services.db.rows<{ n: string }>(`SELECT count(*) AS n FROM "${tablename}"`))[0]!.n);
      return out;
    }

    // seeded: FUZZ_SEED replays a run
    const seed = Number(process.env.FUZZ_SEED ?? 20_261_201);
    let state = seed >>> 0;
    const random = () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    };

    function randomValue(depth = 0): unknown {
      const pick = Math.floor(random() * 12);
      switch (pick) {
        case 0:
          return null;
        case 1:
          return random() < 0.5;
        case 2:
          return Math.floor(random() * 2 ** 40) * (random() < 0.5 ? -1 : 1);
        case 3:
          return random() * 1e308;
        case 4:
          return '';
        case 5:
          return 'x'.repeat(Math.floor(random() * 5000));
        case 6:
          return "'; DROP TABLE customers; --";
        case 7:
          return '\u0000\u202e💥ñ';
        case 8:
          return depth < 3 ? [randomValue(depth + 1), randomValue(depth + 1)] : [];
        case 9:
          return depth < 3 ? { a: randomValue(depth + 1), __proto__: { polluted: true } } : {};
        case 10:
          return '10.64.0.0/8';
        default:
          return '999999999999999999999';
      }
    }

    function bodiesFor(r: RouteDef): unknown[] {
      const keys = new Set<string>();
      const shape = (r.body as unknown as { shape?: Record<string, unknown> } | undefined)?.shape;
      for (const k of Object.keys(shape ?? {})) keys.add(k);
      for (const k of [
        'name',
        'username',
        'password',
        'planId',
        'ipAddress',
        'networks',
        'price',
        'validity',
        'payment',
        'amount',
        'method',
        'count',
        'routerId',
        'siteId',
        'connectionType',
      ])
        keys.add(k);
      const bodies: unknown[] = ['null', '[]', '"text"', '12', '{"unterminated": ', '{"a":1}{"b":2}', {}, { __proto__: { admin: true } }];
      for (let i = 0; i < 25; i++) {
        const b: Record<string, unknown> = {};
        for (const k of keys) if (random() < 0.6) b[k] = randomValue();
        bodies.push(b);
      }
      return bodies;
    }

    it('never answers 500 and writes nothing, on every write route', async function () {
      this.timeout(120_000);
      console.log(`      bad-input seed ${seed} (FUZZ_SEED)`);
      const before = await snapshot();
      for (const r of routes) {
        if (r.method === 'get' || SKIP.has(r.path)) continue;
        // routes without a body act on their id: a missing one must write nothing either
        const id = r.body ? customerId : '999999';
        for (const candidate of r.body ? bodiesFor(r) : [{}, '[]']) {
          let body = candidate;
          if (r.body && typeof candidate === 'object' && r.body.safeParse(candidate).success) {
            // a body the schema accepts is a real write: aim it at a missing id, or skip it
            if (!r.path.includes(':id')) continue;
            body = candidate;
            const res = await admin.request(r.method.toUpperCase(), concrete(r.path, '999999'), body);
            expect(res.status, `${r.method} ${r.path} ${JSON.stringify(body).slice(0, 200)}`).to.be.within(400, 499);
            continue;
          }
          const res = await admin.request(r.method.toUpperCase(), concrete(r.path, id), body);
          expect(res.status, `${r.method} ${r.path} ${JSON.stringify(body).slice(0, 200)} → ${JSON.stringify(res.body)}`).to.be.within(400, 499);
          expect(res.body, `${r.method} ${r.path}`).to.have.nested.property('error.message').that.is.a('string');
        }
      }
      expect(await snapshot()).to.deep.equal(before);
    });

    it('rejects ids that are not ids with 404', async () => {
      for (const id of ['abc', '-1', '1.5', '0', "1' OR '1'='1", '99999999999999999999999']) {
        expect((await admin.get(`/customers/${encodeURIComponent(id)}`)).status, id).to.equal(404);
      }
    });

    it('answers malformed JSON with 400', async () => {
      const res = await admin.request('POST', '/customers', '{"connectionType":');
      expect(res.status).to.equal(400);
      expect((res.body as Body).error).to.deep.include({ message: 'Request body is not valid JSON' });
    });
  });

  it('serves an OpenAPI document describing every route', async () => {
    const doc = expectStatus(await new ApiClient(controller.url).get('/openapi.json'), 200) as { paths: Record<string, Record<string, Body>> };
    for (const r of routes) {
      const path = r.path.replace(/:(\w+)/g, '{$1}');
      expect(doc.paths[path]?.[r.method], `${r.method} ${r.path}`).to.be.an('object');
    }
    const create = doc.paths['/customers']!.post!;
    expect(JSON.stringify(create.requestBody)).to.include('autoActivate');
  });

  it('answers health and readiness', async () => {
    expect(await (await fetch(`${controller.url}/healthz`)).json()).to.deep.equal({ status: 'ok' });
    expect(await (await fetch(`${controller.url}/readyz`)).json()).to.include({ status: 'ready' });
  });
});
