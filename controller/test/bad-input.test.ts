import { expect } from 'chai';
import { ApiClient, expectStatus } from './helpers/client.ts';
import { ADMIN_PASSWORD, startTestController } from './helpers/controller.ts';
import { Fixtures } from './helpers/fixtures.ts';

type Body = Record<string, unknown>;

describe('bad input that used to answer 500', () => {
  let controller: Awaited<ReturnType<typeof startTestController>>;
  let api: ApiClient;
  let fx: Fixtures;
  let world: Awaited<ReturnType<Fixtures['world']>>;

  before(async function () {
    this.timeout(120_000); // the embedded database starts and migrates here
    controller = await startTestController();
    api = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
    fx = new Fixtures(api);
    world = await fx.world();
  });
  after(async () => controller.stop());

  it('refuses deeply nested JSON with 400 naming the problem', async () => {
    for (const raw of ['['.repeat(100_000) + ']'.repeat(100_000), `{"name":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}`]) {
      const res = await api.request('POST', '/sites', raw);
      expect(res.status).to.equal(400);
      expect((res.body as { error: Body }).error).to.deep.include({ message: 'Request body is nested too deeply (at most 32 levels)', field: 'body' });
    }
  });

  it('answers a malformed percent-escape in a path parameter with 400 naming it, never a 500', async () => {
    for (const path of ['/customers/%E0%A4%A', '/customers/%ZZ', '/provisioning/jobs/%']) {
      const res = await api.request('GET', path);
      expect(res.status, path).to.equal(400);
      expect((res.body as { error: Body }).error, path).to.deep.include({ field: 'params' });
    }
  });

  it('still accepts brackets inside strings and ordinary nesting', async () => {
    const res = await api.post('/sites', { name: `Site ${'[{'.repeat(40)}` });
    expectStatus(res, 201);
  });

  it('keeps extending within ten years: 422 naming the count, never a 500 or the year 275 000', async function () {
    this.timeout(120_000); // before the fix, about 900 extends reach the year 275 760
    const c = expectStatus(await api.post('/customers', fx.customerBody(world.pppoe.id as string, { ipAddress: '10.64.9.9' })), 201) as Body;
    let last: Awaited<ReturnType<ApiClient['post']>> | undefined;
    for (let i = 0; i < 1000; i++) {
      last = await api.post(`/customers/${c.id}/extend`, { count: 3650, unit: 'months', reason: 'fuzzing the bound' });
      if (last.status !== 200) break;
    }
    expect(last!.status, JSON.stringify(last!.body)).to.equal(422);
    expect((last!.body as { error: Body }).error).to.deep.include({ field: 'count', message: 'The expiry would be more than 10 years ahead' });
    const after = expectStatus(await api.get(`/customers/${c.id}`), 200) as Body;
    expect(after.expiresAt).to.equal(c.expiresAt);
    // a year is fine
    const ok = expectStatus(await api.post(`/customers/${c.id}/extend`, { count: 12, unit: 'months', reason: 'a year of goodwill' }), 200) as Body;
    expect(Date.parse(ok.expiresAt as string)).to.be.greaterThan(Date.parse(c.expiresAt as string));
  });

  it('refuses a plan valid for more than ten years', async () => {
    const res = await api.post('/plans', {
      name: 'Forever',
      connectionType: 'pppoe',
      price: '1',
      downloadSpeed: '1M',
      uploadSpeed: '1M',
      validity: { count: 100_000, unit: 'days' },
      poolIds: [world.pppoePool.id],
    });
    expect(res.status).to.equal(422);
    expect((res.body as { error: Body }).error).to.deep.include({ field: 'validity.count', message: 'Validity must be at most 10 years' });
  });
});

describe('bad input found by the API fuzzer', () => {
  let controller: Awaited<ReturnType<typeof startTestController>>;
  let api: ApiClient;
  before(async function () {
    this.timeout(120_000);
    controller = await startTestController();
    api = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
  });
  after(async () => controller.stop());

  it('takes a job filter time with a UTC offset past ±15:59', async () => {
    expectStatus(await api.get(`/provisioning/jobs?since=${encodeURIComponent('2026-02-15T07:32:29+20:17')}`), 200);
  });

  it("clears an Africa's Talking base URL with null", async () => {
    expectStatus(await api.patch('/settings', { africastalking: { username: 'sandbox', baseUrl: null } }), 200);
  });
});
