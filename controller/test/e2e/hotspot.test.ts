import { expect } from 'chai';
import { expectStatus } from '../helpers/client.ts';
import { allApplied, eventually, startStack, type Stack } from '../helpers/stack.ts';

type Body = Record<string, unknown>;

describe('Hotspot vouchers end to end', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
    await stack.startAgentInProcess({ hotspotIntervalMs: 300 });
  });
  after(() => stack?.stop());

  const voucherUsers = () => stack.sim.store.list('/ip/hotspot/user').filter((u) => (u.comment ?? '').startsWith('mtandao-voucher:'));

  it('a batch lands on the router: one hotspot user per code with the plan profile and limit-uptime', async () => {
    const { api, world } = stack;
    const batch = expectStatus(await api.post('/vouchers/batches', { planId: world.hotspot.id, count: 25, prefix: 'KB' }), 201) as Body;
    expect(batch).to.include({ count: 25, prefix: 'KB', length: 8, charset: 'mixed' });
    await allApplied(api, `&routerId=${world.router.id}`);
    const list = expectStatus(await api.get(`/vouchers?batchId=${batch.id}&pageSize=100`), 200) as { items: Body[]; total: number };
    expect(list.total).to.equal(25);
    for (const v of list.items) expect(v.code).to.match(/^KB[2-9A-HJ-KMNP-Z]{8}$/);
    const users = voucherUsers();
    expect(users.map((u) => u.name).sort()).to.deep.equal(list.items.map((v) => v.code).sort());
    expect(users[0]).to.include({ profile: world.hotspot.name, 'limit-uptime': '1d' });
    // the portal's host is let through the walled garden, as a marked entry
    expect(stack.sim.store.list('/ip/hotspot/walled-garden').map((w) => [w['dst-host'], w.comment])).to.deep.equal([['127.0.0.1', 'mtandao-portal']]);
  });

  it('a router that lost its voucher users (a reset) gets them again from the next hotspot read', async () => {
    const { sim } = stack;
    const before = voucherUsers()
      .map((u) => u.name)
      .sort();
    sim.store.remove(
      '/ip/hotspot/user',
      voucherUsers()
        .slice(0, 10)
        .map((u) => u['.id']!),
    );
    await eventually(async () => (voucherUsers().length === before.length ? true : undefined), 'the vouchers back on the router');
    expect(
      voucherUsers()
        .map((u) => u.name)
        .sort(),
    ).to.deep.equal(before);
  });

  it('a retried batch with the same Idempotency-Key makes one batch', async () => {
    const { api, world } = stack;
    const key = { 'idempotency-key': `batch-${Date.now()}` };
    const first = expectStatus(await api.post('/vouchers/batches', { planId: world.hotspot.id, count: 3 }, key), 201) as Body;
    const again = await api.post('/vouchers/batches', { planId: world.hotspot.id, count: 3 }, key);
    expect(again.status).to.equal(201);
    expect(again.headers.get('idempotent-replayed')).to.equal('true');
    expect((again.body as Body).id).to.equal(first.id);
    expect((expectStatus(await api.get(`/vouchers?batchId=${first.id}`), 200) as { total: number }).total).to.equal(3);
    await stack.controller.services.db.exec('DELETE FROM voucher_batches WHERE id = $1', [first.id]);
  });

  it('validity from sale (the setting, admin only): the expiry is set when the batch is made', async () => {
    const { api, world } = stack;
    expect(expectStatus(await api.get('/settings/vouchers'), 200)).to.deep.equal({ validityFrom: 'first-login' });
    expect(expectStatus(await api.request('PUT', '/settings/vouchers', { validityFrom: 'sale' }), 200)).to.deep.equal({ validityFrom: 'sale' });
    try {
      const b = expectStatus(await api.post('/vouchers/batches', { planId: world.hotspot.id, count: 2 }), 201) as Body;
      expect(b.validityFrom).to.equal('sale');
      const [v] = (expectStatus(await api.get(`/vouchers?batchId=${b.id}`), 200) as { items: Body[] }).items;
      expect(Date.parse(v!.expiresAt as string)).to.be.closeTo(Date.now() + 86_400_000, 60_000);
      expect(v!.status).to.equal('unused');
      await stack.controller.services.db.exec('DELETE FROM voucher_batches WHERE id = $1', [b.id]);
    } finally {
      expectStatus(await api.request('PUT', '/settings/vouchers', { validityFrom: 'first-login' }), 200);
    }
  });

  it('refuses a non-hotspot plan, a count beyond 10 000 and codes too short for the batch, naming the field', async () => {
    const { api, world } = stack;
    const pppoe = await api.post('/vouchers/batches', { planId: world.pppoe.id, count: 5 });
    expect(pppoe.status).to.equal(422);
    expect((pppoe.body as { error: Body }).error).to.include({ field: 'planId' });
    const many = await api.post('/vouchers/batches', { planId: world.hotspot.id, count: 10_001 });
    expect((many.body as { error: Body }).error).to.include({ field: 'count' });
    const dense = await api.post('/vouchers/batches', { planId: world.hotspot.id, count: 1000, length: 4, charset: 'digits' });
    expect(dense.status).to.equal(422);
    expect((dense.body as { error: Body }).error).to.include({ field: 'length' });
  });

  it('a voucher login makes it active and its expiry counts from the first login', async () => {
    const { api, sim } = stack;
    const [v] = (expectStatus(await api.get('/vouchers?status=unused&pageSize=1'), 200) as { items: Body[] }).items;
    const code = v!.code as string;
    const login = sim.hotspot.login({ mac: '02:11:22:33:44:55', ip: '10.5.50.20' }, { username: code, password: code });
    if (!('session' in login)) throw new Error(login.error);
    // the device has been online 10 minutes when the agent next reads the router
    sim.hotspot.advance(login.session['.id']!, { seconds: 600, bytesIn: 5000, bytesOut: 1000 });
    const active = await eventually(async () => {
      const got = expectStatus(await api.get(`/vouchers/${v!.id}`), 200) as Body;
      return got.status === 'active' && (got.uptimeSeconds as number) >= 600 ? got : undefined;
    }, 'the voucher to turn active');
    const firstLogin = Date.parse(active.firstLoginAt as string);
    expect(firstLogin).to.be.closeTo(Date.now() - 600_000, 30_000);
    expect(Date.parse(active.expiresAt as string) - firstLogin).to.equal(86_400_000);
    const online = expectStatus(await api.get(`/routers/${stack.world.router.id}/hotspot/active`), 200) as { items: Body[] };
    expect(online.items.map((s) => s.user)).to.include(code);
    expect(online.items.find((s) => s.user === code)).to.include({ macAddress: '02:11:22:33:44:55', voucherId: v!.id });
  });

  it('an expired voucher is removed from the router and its session dropped; a revoked one too', async () => {
    const { api, sim, controller } = stack;
    const active = (expectStatus(await api.get('/vouchers?status=active'), 200) as { items: Body[] }).items[0]!;
    await controller.services.db.exec(`UPDATE vouchers SET expires_at = now() - interval '1 second' WHERE id = $1`, [active.id]);
    expect(await controller.services.vouchers.sweep()).to.equal(1);
    await eventually(async () => (voucherUsers().some((u) => u.name === active.code) ? undefined : true), 'the expired voucher removed');
    expect(sim.store.list('/ip/hotspot/active').some((s) => s.user === active.code)).to.equal(false);
    expect((expectStatus(await api.get(`/vouchers/${active.id}`), 200) as Body).status).to.equal('expired');

    const unused = (expectStatus(await api.get('/vouchers?status=unused&pageSize=1'), 200) as { items: Body[] }).items[0]!;
    const revoked = expectStatus(await api.post(`/vouchers/${unused.id}/revoke`), 200) as Body;
    expect(revoked.status).to.equal('revoked');
    await eventually(async () => (voucherUsers().some((u) => u.name === unused.code) ? undefined : true), 'the revoked voucher removed');
  });

  it('prints an A4 sheet with a QR code per voucher, and a CSV', async () => {
    const { api } = stack;
    const [batch] = (expectStatus(await api.get('/vouchers/batches'), 200) as { items: Body[] }).items;
    const sheet = await api.get(`/vouchers/batches/${batch!.id}/print`);
    expect(sheet.status).to.equal(200);
    const html = String(sheet.body);
    expect((html.match(/<svg/g) ?? []).length).to.equal(25);
    expect((await api.get(`/vouchers/batches/${batch!.id}/print?page=2`)).status).to.equal(404);
    expect(html).to.contain('size:A4');
    const csv = await api.get(`/vouchers/batches/${batch!.id}/print?format=csv`);
    expect(String(csv.body).trim().split('\r\n')).to.have.length(26);
  });
});
