import { expect } from 'chai';
import { ApiClient, expectStatus, type ApiResponse } from './helpers/client.ts';
import { ADMIN_PASSWORD, startTestController } from './helpers/controller.ts';
import { freshDatabase } from './helpers/database.ts';
import { Fixtures } from './helpers/fixtures.ts';
import { spawnCrashingController } from './helpers/spawn-controller.ts';

type Body = Record<string, unknown>;

/** The raw text of an answer, as the client received it. */
const text = (res: ApiResponse) => JSON.stringify(res.body);

describe('Idempotency-Key', () => {
  let controller: Awaited<ReturnType<typeof startTestController>>;
  let api: ApiClient;
  let fx: Fixtures;
  let world: Awaited<ReturnType<Fixtures['world']>>;
  let n = 0;
  const key = () => `key-${++n}-${Date.now()}`;
  const count = async (sql: string, bind: unknown[] = []) => Number((await controller.services.db.rows<{ n: string }>(sql, bind))[0]!.n);

  before(async function () {
    this.timeout(300_000); // the embedded database starts and migrates here (minutes on a busy machine)
    controller = await startTestController();
    api = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
    fx = new Fixtures(api);
    world = await fx.world();
  });
  after(async () => controller.stop());

  it('a retry of POST /customers gets the first answer, marked replayed, and creates nothing more', async () => {
    const k = key();
    const body = fx.customerBody(world.pppoe.id as string, { ipAddress: '10.64.30.1' });
    const first = await api.post('/customers', body, { 'idempotency-key': k });
    expectStatus(first, 201);
    expect(first.headers.get('idempotent-replayed')).to.equal(null);
    const again = await api.post('/customers', { ...body }, { 'idempotency-key': k });
    expect(again.status).to.equal(201);
    expect(again.headers.get('idempotent-replayed')).to.equal('true');
    expect(text(again)).to.equal(text(first));
    expect(await count('SELECT count(*) AS n FROM customers WHERE username = $1', [body.username])).to.equal(1);
    // the same body with its keys in another order is the same request
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    expect((await api.post('/customers', reordered, { 'idempotency-key': k })).headers.get('idempotent-replayed')).to.equal('true');
  });

  it('pays once however often a payment is retried', async () => {
    const c = expectStatus(await api.post('/customers', fx.customerBody(world.pppoe.id as string, { ipAddress: '10.64.30.2' })), 201) as Body;
    const k = key();
    const answers = [];
    for (let i = 0; i < 3; i++)
      answers.push(await api.post(`/customers/${c.id}/payments`, { method: 'mpesa', amount: '1500', reference: 'QXY12AB34' }, { 'idempotency-key': k }));
    expect(answers.map((a) => a.status)).to.deep.equal([201, 201, 201]);
    expect(new Set(answers.map(text)).size).to.equal(1);
    expect(await count(`SELECT count(*) AS n FROM ledger_entries WHERE customer_id = $1 AND kind = 'payment' AND reference = 'QXY12AB34'`, [c.id])).to.equal(1);
  });

  it('answers 422 to the same key with another body or on another route', async () => {
    const k = key();
    const site = expectStatus(await api.post('/sites', { name: `Idem ${k}` }, { 'idempotency-key': k }), 201) as Body;
    for (const res of [
      await api.post('/sites', { name: `Other ${k}` }, { 'idempotency-key': k }),
      await api.post('/routers', { name: `r-${n}`, siteId: site.id }, { 'idempotency-key': k }),
    ]) {
      expect(res.status).to.equal(422);
      expect((res.body as { error: Body }).error).to.deep.include({
        field: 'Idempotency-Key',
        message: 'This Idempotency-Key was already used for a different request',
      });
    }
    expect(await count(`SELECT count(*) AS n FROM sites WHERE name LIKE $1`, [`% ${k}`])).to.equal(1);
  });

  it('keeps keys per caller', async () => {
    expectStatus(await api.post('/users', { username: 'idem.staff', password: 'idem-staff-password', role: 'staff' }), 201);
    const staff = await new ApiClient(controller.url).login('idem.staff', 'idem-staff-password');
    const k = key();
    expectStatus(await api.post('/sites', { name: `Admin ${k}` }, { 'idempotency-key': k }), 201);
    const theirs = await staff.post('/sites', { name: `Staff ${k}` }, { 'idempotency-key': k });
    expect(theirs.status).to.equal(201);
    expect(theirs.headers.get('idempotent-replayed')).to.equal(null);
    expect((theirs.body as Body).name).to.equal(`Staff ${k}`);
  });

  it('runs concurrent duplicates once: the others wait and replay (or hear it is in progress)', async () => {
    const k = key();
    const name = `Concurrent ${k}`;
    const answers = await Promise.all(Array.from({ length: 6 }, () => api.post('/sites', { name }, { 'idempotency-key': k })));
    expect(
      answers.map((a) => a.status).every((s) => s === 201 || s === 409),
      JSON.stringify(answers.map((a) => [a.status, a.body])),
    ).to.equal(true);
    const ok = answers.filter((a) => a.status === 201);
    expect(ok.length).to.be.greaterThan(0);
    expect(new Set(ok.map(text)).size).to.equal(1);
    expect(ok.filter((a) => a.headers.get('idempotent-replayed') === null)).to.have.length(1);
    for (const busy of answers.filter((a) => a.status === 409)) expect((busy.body as { error: Body }).error.message).to.match(/in progress/);
    expect(await count('SELECT count(*) AS n FROM sites WHERE name = $1', [name])).to.equal(1);
  });

  it('keeps no answer for a request that failed: the retry runs again', async () => {
    const k = key();
    const missing = await api.post('/customers/999999/payments', { method: 'cash', amount: '10' }, { 'idempotency-key': k });
    expect(missing.status).to.equal(404);
    expect(await count('SELECT count(*) AS n FROM idempotency_keys WHERE key = $1', [k])).to.equal(0);
    const c = expectStatus(await api.post('/customers', fx.customerBody(world.pppoe.id as string, { ipAddress: '10.64.30.3' })), 201) as Body;
    const paid = await api.post(`/customers/${c.id}/payments`, { method: 'cash', amount: '10' }, { 'idempotency-key': k });
    expect(paid.status).to.equal(201);
  });

  it('forgets a key after 24 hours', async () => {
    const k = key();
    expectStatus(await api.post('/sites', { name: `Old ${k}` }, { 'idempotency-key': k }), 201);
    await controller.services.db.exec(`UPDATE idempotency_keys SET created_at = now() - interval '24 hours 1 minute' WHERE key = $1`, [k]);
    const fresh = await api.post('/sites', { name: `New ${k}` }, { 'idempotency-key': k });
    expect(fresh.status).to.equal(201);
    expect(fresh.headers.get('idempotent-replayed')).to.equal(null);
    expect((fresh.body as Body).name).to.equal(`New ${k}`);
  });

  it('names a malformed key', async () => {
    for (const bad of ['', 'x'.repeat(256), 'with space', 'ünïcode']) {
      const res = await api.post('/sites', { name: `Bad key ${bad.length}` }, { 'idempotency-key': bad });
      expect(res.status, JSON.stringify(bad)).to.equal(400);
      expect((res.body as { error: Body }).error).to.deep.include({ field: 'Idempotency-Key' });
    }
  });

  it('does not keep answers that hold a secret shown once (API and enrolment tokens)', async () => {
    const k = key();
    const a = expectStatus(await api.post('/auth/tokens', { name: 'ci' }, { 'idempotency-key': k }), 201) as Body;
    const b = expectStatus(await api.post('/auth/tokens', { name: 'ci' }, { 'idempotency-key': k }), 201) as Body;
    expect(a.token).to.not.equal(b.token);
    expect(await count('SELECT count(*) AS n FROM idempotency_keys WHERE key = $1', [k])).to.equal(0);
  });

  it('after a controller is killed between the commit and the answer, the retry gets the first answer, not 409', async function () {
    this.timeout(90_000);
    const databaseUrl = await freshDatabase();
    let second: Awaited<ReturnType<typeof startTestController>> | undefined;
    const { child, url, exited } = await spawnCrashingController('crash-controller.ts', databaseUrl);
    try {
      const crashing = await new ApiClient(url).login('admin', ADMIN_PASSWORD);
      const cfx = new Fixtures(crashing);
      const cworld = await cfx.world();
      const body = cfx.customerBody(cworld.pppoe.id as string, { ipAddress: '10.64.31.7' });
      const k = key();
      const lost = await crashing.post('/customers', body, { 'idempotency-key': k }).then(
        () => 'answered',
        (err: Error) => err,
      );
      expect(lost, 'the reply is lost').to.be.instanceOf(Error);
      expect(await exited).to.equal('SIGKILL');

      second = await startTestController({}, { databaseUrl });
      const retrying = await new ApiClient(second.url).login('admin', ADMIN_PASSWORD);
      const retry = await retrying.post('/customers', body, { 'idempotency-key': k });
      expect(retry.status, JSON.stringify(retry.body)).to.equal(201);
      expect(retry.headers.get('idempotent-replayed')).to.equal('true');
      expect((retry.body as Body).username).to.equal(body.username);
      const rows = await second.services.db.rows<{ id: string }>('SELECT id FROM customers WHERE username = $1', [body.username]);
      expect(rows.map((r) => String(r.id))).to.deep.equal([(retry.body as Body).id]);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await second?.stop();
    }
  });
});
