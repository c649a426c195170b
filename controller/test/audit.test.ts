import { expect } from 'chai';
import { ApiClient, expectStatus } from './helpers/client.ts';
import { ADMIN_PASSWORD, startTestController } from './helpers/controller.ts';
import { Fixtures } from './helpers/fixtures.ts';

type Entry = {
  id: string;
  at: string;
  username: string | null;
  action: string;
  entity: string;
  entityId: string | null;
  details: Record<string, unknown>;
  ip: string | null;
};
type List = { items: Entry[]; total: number };

describe('audit log viewer (GET /audit)', () => {
  let controller: Awaited<ReturnType<typeof startTestController>>;
  let admin: ApiClient;
  let staff: ApiClient;
  let siteId: string;

  before(async () => {
    controller = await startTestController();
    admin = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
    expectStatus(await admin.post('/users', { username: 'cashier.amani', password: 'cashier-password-1', role: 'staff' }), 201);
    staff = await new ApiClient(controller.url).login('cashier.amani', 'cashier-password-1');
    siteId = (expectStatus(await staff.post('/sites', { name: 'Audit POP' }), 201) as { id: string }).id;
    const fx = new Fixtures(admin);
    await fx.router(siteId);
  });
  after(async () => controller.stop());

  const list = async (q: string) => expectStatus(await admin.get(`/audit?${q}`), 200) as List;

  it('is for admins only', async () => {
    expect((await staff.get('/audit')).status).to.equal(403);
  });

  it('filters by actor (any case), entity and id, action prefix and time, newest first', async () => {
    const byStaff = await list('actor=CASHIER.AMANI');
    expect(byStaff.total).to.be.greaterThan(0);
    expect(byStaff.items.every((e) => e.username === 'cashier.amani')).to.equal(true);
    expect(byStaff.items.map((e) => e.action)).to.include('site.create');

    const site = await list(`entity=site&entityId=${siteId}`);
    expect(site.items.map((e) => e.action)).to.include('site.create');
    expect(site.items.every((e) => e.entity === 'site' && e.entityId === siteId)).to.equal(true);

    const routers = await list('action=router.');
    expect(routers.total).to.be.greaterThan(0);
    expect(routers.items.every((e) => e.action.startsWith('router.'))).to.equal(true);

    const all = await list('pageSize=200');
    const ids = all.items.map((e) => Number(e.id));
    expect(ids).to.deep.equal([...ids].sort((a, b) => b - a));
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await list(`from=${encodeURIComponent(future)}`)).total).to.equal(0);
    expect((await list(`to=${encodeURIComponent(future)}`)).total).to.equal(all.total);
  });

  it('pages', async () => {
    const p1 = await list('pageSize=1&page=1');
    const p2 = await list('pageSize=1&page=2');
    expect(p1.items).to.have.length(1);
    expect(p1.items[0]!.id).to.not.equal(p2.items[0]!.id);
    expect(p1.total).to.equal(p2.total);
  });

  it('names the field of a bad filter', async () => {
    const res = await admin.get('/audit?from=yesterday');
    expect(res.status).to.equal(422);
    expect((res.body as { error: { field: string } }).error.field).to.equal('from');
  });
});
