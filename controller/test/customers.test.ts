import { expect } from 'chai';
import { ApiClient, expectStatus } from './helpers/client.ts';
import { ADMIN_PASSWORD, startTestController } from './helpers/controller.ts';
import { Fixtures } from './helpers/fixtures.ts';

type Body = Record<string, unknown>;
type ErrorBody = { error: { message: string; field?: string; code: string } };

describe('Add Customer (POST /customers)', () => {
  let controller: Awaited<ReturnType<typeof startTestController>>;
  let api: ApiClient;
  let fx: Fixtures;
  let world: Awaited<ReturnType<Fixtures['world']>>;

  before(async () => {
    controller = await startTestController();
    api = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
    fx = new Fixtures(api);
    world = await fx.world();
  });
  after(async () => controller.stop());

  const pppoe = (extra: Body = {}) => fx.customerBody(world.pppoe.id as string, { networkId: world.pppoeNetworkId, ipAddress: '10.64.1.10', ...extra });

  it('adds an active PPPoE customer with expiry, payment and a provisioning job', async () => {
    const body = pppoe({ ipAddress: '10.64.3.7', username: 'jane.w' });
    const c = expectStatus(await api.post('/customers', body), 201) as Body;
    expect(c).to.include({
      username: 'jane.w',
      status: 'active',
      connectionType: 'pppoe',
      planId: world.pppoe.id,
      ipAddress: '10.64.3.7',
      accountNumber: 'jane.w',
    });
    expect(c.id).to.be.a('string');
    const expires = Date.parse(c.expiresAt as string);
    expect(expires - Date.now()).to.be.closeTo(30 * 86_400_000, 60_000);
    expect((c.latestJob as Body).type).to.equal('customer.apply');
    const payments = expectStatus(await api.get(`/customers/${c.id}/payments`), 200) as { items: Body[] };
    // newest first: the first period charged, after the payment that covers it (with its receipt)
    expect(payments.items.map((p) => [p.side, p.kind, p.amount, p.method, p.balanceAfter])).to.deep.equal([
      ['charge', 'plan', '1500.00', null, '0.00'],
      ['credit', 'payment', '1500.00', 'cash', '1500.00'],
    ]);
    expect(payments.items[1]!.receiptNumber).to.match(/^R\d{6,}$/);
    expect(c.balance).to.equal('0.00');
  });

  it('a custom amount replaces the price for the first period; the payment covers it and the installation fee', async () => {
    const c = expectStatus(
      await api.post(
        '/customers',
        pppoe({ ipAddress: '10.64.3.8', payment: { method: 'mpesa', installationFee: '2,000', customAmount: '750.50', reference: 'QGH7ABC123' } }),
      ),
      201,
    ) as Body;
    const payments = expectStatus(await api.get(`/customers/${c.id}/payments`), 200) as { items: Body[] };
    expect(payments.items.map((p) => [p.side, p.kind, p.amount, p.method, p.reference]).reverse()).to.deep.equal([
      ['credit', 'payment', '2750.50', 'mpesa', 'QGH7ABC123'],
      ['charge', 'installation', '2000.00', null, null],
      ['charge', 'plan', '750.50', null, null],
    ]);
    expect(c.balance).to.equal('0.00');
  });

  it('Auto Activate No creates an inactive customer with nothing for the router, no charge and no payment', async () => {
    const c = expectStatus(
      await api.post('/customers', pppoe({ ipAddress: '10.64.3.9', autoActivate: false, payment: { method: 'cash', installationFee: '1000' } })),
      201,
    ) as Body;
    expect(c).to.include({ status: 'inactive', expiresAt: null, latestJob: null, balance: '0.00' });
    expect((expectStatus(await api.get(`/customers/${c.id}/payments`), 200) as { total: number }).total).to.equal(0);
  });

  it('auto-selects the network when the plan has a single block', async () => {
    const body = pppoe({ ipAddress: '10.64.3.11' });
    delete body.networkId;
    const c = expectStatus(await api.post('/customers', body), 201) as Body;
    expect(c.networkId).to.equal(world.pppoeNetworkId);
  });

  it('adds a Hotspot customer without network or IP', async () => {
    const c = expectStatus(await api.post('/customers', fx.customerBody(world.hotspot.id as string, { connectionType: 'hotspot' })), 201) as Body;
    expect(c).to.include({ connectionType: 'hotspot', ipAddress: null, networkId: null, status: 'active' });
  });

  it('adds a Static customer from a /28', async () => {
    const ips = expectStatus(await api.get(`/networks/${world.staticNetworkId}/available-ips`), 200) as { ips: string[] };
    expect(ips.ips[0]).to.equal('172.16.10.2'); // .0 network, .1 gateway
    const c = expectStatus(
      await api.post(
        '/customers',
        fx.customerBody(world.static.id as string, { connectionType: 'static', networkId: world.staticNetworkId, ipAddress: ips.ips[0] }),
      ),
      201,
    ) as Body;
    expect(c).to.include({ connectionType: 'static', ipAddress: '172.16.10.2' });
  });

  describe('every error of the help page names its field', () => {
    const cases: [string, () => Body, number, string, string][] = [
      ['"IP address is required"', () => pppoe({ ipAddress: undefined }), 422, 'ipAddress', 'IP address is required'],
      [
        '"IP address is required" for Static',
        () => fx.customerBody(world.static.id as string, { connectionType: 'static' }),
        422,
        'ipAddress',
        'IP address is required',
      ],
      ['an address outside the block', () => pppoe({ ipAddress: '10.65.0.5' }), 422, 'ipAddress', 'IP address is not available'],
      ['the gateway', () => pppoe({ ipAddress: '10.64.0.1' }), 422, 'ipAddress', 'IP address is not available'],
      ['the network address', () => pppoe({ ipAddress: '10.64.0.0' }), 422, 'ipAddress', 'IP address is not available'],
      ['a malformed address', () => pppoe({ ipAddress: '10.64.300.1' }), 422, 'ipAddress', 'IP address must be an IPv4 address like 10.64.3.10'],
      ['"Invalid phone number"', () => pppoe({ phone: '0612345678', ipAddress: '10.64.9.1' }), 422, 'phone', 'Invalid phone number'],
      [
        'a plan of another connection type',
        () => pppoe({ planId: world.hotspot.id, ipAddress: '10.64.9.2' }),
        422,
        'planId',
        'This plan is for Hotspot customers; choose a PPPoE plan',
      ],
      ['an unknown plan', () => pppoe({ planId: '999999', ipAddress: '10.64.9.3' }), 422, 'planId', 'Plan not found'],
      ['a missing full name', () => pppoe({ fullName: '  ' }), 422, 'fullName', 'Full name is required'],
      ['a missing phone', () => pppoe({ phone: undefined }), 422, 'phone', 'Phone number is required'],
      [
        'a username unsafe for RouterOS',
        () => pppoe({ username: 'jane"; /system reboot' }),
        422,
        'username',
        'Username must be 3–64 letters, digits, ".", "_", "-" or "@"',
      ],
      ['a missing connection type', () => pppoe({ connectionType: undefined }), 422, 'connectionType', 'Connection type is required'],
      ['a missing payment method', () => pppoe({ payment: {} }), 422, 'payment.method', 'Payment method is required'],
      ['an email that is not one', () => pppoe({ email: 'jane@', ipAddress: '10.64.9.4' }), 422, 'email', 'Invalid email address'],
      [
        'a password with a control character',
        () => pppoe({ password: 'abc\u0007def', ipAddress: '10.64.9.5' }),
        422,
        'password',
        'Password must not contain control characters',
      ],
      [
        'a password a router cannot store',
        () => pppoe({ password: 'пароль', ipAddress: '10.64.9.6' }),
        422,
        'password',
        'Password must use only characters a MikroTik router can store (Latin letters, digits and Western European accents)',
      ],
    ];
    for (const [name, body, status, field, message] of cases) {
      it(`rejects ${name}`, async () => {
        const res = await api.post('/customers', body());
        expect(res.status, JSON.stringify(res.body)).to.equal(status);
        const err = (res.body as ErrorBody).error;
        expect(err.field).to.equal(field);
        expect(err.message).to.equal(message);
      });
    }

    it('"Username already exists", case-insensitively', async () => {
      expectStatus(await api.post('/customers', pppoe({ username: 'Wanjiku', ipAddress: '10.64.4.1' })), 201);
      const res = await api.post('/customers', pppoe({ username: 'WANJIKU', ipAddress: '10.64.4.2' }));
      expect(res.status).to.equal(409);
      expect((res.body as ErrorBody).error).to.include({ field: 'username', message: 'Username already exists' });
    });

    it('"IP address is not available" when it is taken', async () => {
      expectStatus(await api.post('/customers', pppoe({ ipAddress: '10.64.4.3' })), 201);
      const res = await api.post('/customers', pppoe({ ipAddress: '10.64.4.3' }));
      expect(res.status).to.equal(409);
      expect((res.body as ErrorBody).error).to.include({ field: 'ipAddress', message: 'IP address is not available' });
    });

    it('"Name, price, speed and validity are required" for a plan missing them', async () => {
      for (const missing of ['name', 'price', 'downloadSpeed', 'validity']) {
        const body: Body = {
          name: 'Incomplete',
          connectionType: 'pppoe',
          price: '100',
          downloadSpeed: '1M',
          uploadSpeed: '1M',
          validity: { count: 1, unit: 'days' },
        };
        delete body[missing];
        const res = await api.post('/plans', body);
        expect(res.status, missing).to.equal(422);
        expect((res.body as ErrorBody).error).to.include({ message: 'Name, price, speed and validity are required', field: missing });
      }
    });

    it('an incomplete plan (no pool yet) names the plan', async () => {
      const plan = await fx.plan('pppoe', {});
      const res = await api.post('/customers', fx.customerBody(plan.id as string, { ipAddress: '10.64.9.9' }));
      expect(res.status).to.equal(422);
      expect((res.body as ErrorBody).error).to.include({ field: 'planId', message: 'This plan has no IP pool yet: add one under Internet Plans' });
    });

    it('a failed save changes nothing', async () => {
      const before = (expectStatus(await api.get('/customers?pageSize=1'), 200) as Body).total;
      const jobsBefore = (expectStatus(await api.get('/provisioning/jobs?pageSize=1'), 200) as Body).total;
      const res = await api.post('/customers', pppoe({ ipAddress: '10.64.5.5', phone: '0600000000', payment: { method: 'cash', installationFee: '500' } }));
      expect(res.status).to.equal(422);
      expect((expectStatus(await api.get('/customers?pageSize=1'), 200) as Body).total).to.equal(before);
      expect((expectStatus(await api.get('/provisioning/jobs?pageSize=1'), 200) as Body).total).to.equal(jobsBefore);
      const ips = expectStatus(await api.get(`/networks/${world.pppoeNetworkId}/available-ips?prefix=10.64.5.5`), 200) as { ips: string[] };
      expect(ips.ips).to.include('10.64.5.5');
    });
  });

  it('50 parallel creates asking for the same IP: exactly 1 created, 49 × 409', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => api.post('/customers', pppoe({ ipAddress: '10.64.7.77' }))));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).to.have.length(1);
    expect(statuses.filter((s) => s === 409)).to.have.length(49);
    for (const r of results.filter((x) => x.status === 409))
      expect((r.body as ErrorBody).error).to.include({ field: 'ipAddress', message: 'IP address is not available' });
    const list = expectStatus(await api.get('/customers?search=10.64.7.77'), 200) as { items: Body[] };
    expect(list.items).to.have.length(1);
  });

  it('parallel adds are written together, and a conflict fails only its own customer', async () => {
    const bodies = Array.from({ length: 24 }, (_, i) => pppoe({ ipAddress: `10.64.9.${10 + i}`, username: `batch.${i}` }));
    bodies[5]!.ipAddress = bodies[4]!.ipAddress; // same address as its neighbour
    bodies[13]!.username = 'BATCH.12'; // same login as its neighbour, another case
    const results = await Promise.all(bodies.map((b) => api.post('/customers', b)));
    const refused = results.flatMap((r, i) => (r.status === 201 ? [] : [[i, r.status, (r.body as ErrorBody).error.field]]));
    // whichever of each pair came second is refused, naming its field
    expect(refused).to.have.length(2);
    expect(refused.find(([i]) => i === 4 || i === 5)).to.deep.include.members([409, 'ipAddress']);
    expect(refused.find(([i]) => i === 12 || i === 13)).to.deep.include.members([409, 'username']);
    const created = results.filter((r) => r.status === 201).map((r) => r.body as Body);
    const ids = created.map((c) => c.id as string);
    const rows = await controller.services.db.rows<{ id: string; created_at: Date; jobs: string; lines: string; audits: string }>(
      `SELECT c.id::text, c.created_at,
              (SELECT count(*) FROM provisioning_jobs j WHERE j.customer_id = c.id) AS jobs,
              (SELECT count(*) FROM ledger_entries l WHERE l.customer_id = c.id) AS lines,
              (SELECT count(*) FROM audit_log a WHERE a.entity = 'customer' AND a.entity_id = c.id::text AND a.action = 'customer.create') AS audits
         FROM customers c WHERE c.id = ANY($1::bigint[])`,
      [ids],
    );
    // each its own job, charge and payment, and audit entry, and its answer names its own job
    expect(rows.map((r) => [Number(r.jobs), Number(r.lines), Number(r.audits)])).to.deep.equal(ids.map(() => [1, 2, 1]));
    for (const c of created) expect((c.latestJob as Body).id).to.be.a('string');
    expect(new Set(created.map((c) => (c.latestJob as Body).id)).size).to.equal(created.length);
    // written together: customers of one statement share its transaction's time
    expect(new Set(rows.map((r) => new Date(r.created_at).getTime())).size).to.be.lessThan(rows.length);
  });

  it('a /30 pool is exhausted after its one usable address', async () => {
    const pool = await fx.pool(world.router.id as string, ['192.168.200.0/30'], { gateway: '192.168.200.1' });
    const plan = await fx.plan('static', { poolIds: [pool.id as string] });
    const networkId = (pool.networks as Body[])[0]!.id as string;
    const free = expectStatus(await api.get(`/networks/${networkId}/available-ips`), 200) as { ips: string[]; truncated: boolean };
    expect(free).to.deep.equal({ ips: ['192.168.200.2'], truncated: false });
    expectStatus(await api.post('/customers', fx.customerBody(plan.id as string, { connectionType: 'static', ipAddress: '192.168.200.2' })), 201);
    expect(expectStatus(await api.get(`/networks/${networkId}/available-ips`), 200)).to.deep.equal({ ips: [], truncated: false });
    const res = await api.post('/customers', fx.customerBody(plan.id as string, { connectionType: 'static', ipAddress: '192.168.200.2' }));
    expect(res.status).to.equal(409);
    const poolView = expectStatus(await api.get(`/pools/${pool.id}`), 200) as Body;
    expect(poolView).to.include({ usable: 1, used: 1, free: 0, utilisation: 1 });
  });

  it('phone numbers are stored normalised', async () => {
    const table: [string, string | null][] = [
      ['0712345678', '254712345678'],
      ['0112345678', '254112345678'],
      ['254722000111', '254722000111'],
      ['+254 733 000 222', '254733000222'],
      ['712345670', '254712345670'],
      ['0612345678', null],
      ['0201234567', null],
      ['+255712345678', null],
      ['07123', null],
    ];
    let n = 0;
    for (const [input, stored] of table) {
      const res = await api.post('/customers', pppoe({ phone: input, ipAddress: `10.64.8.${++n}` }));
      if (stored) {
        expect(res.status, `${input}: ${JSON.stringify(res.body)}`).to.equal(201);
        expect((res.body as Body).phone).to.equal(stored);
      } else {
        expect(res.status, input).to.equal(422);
        expect((res.body as ErrorBody).error).to.include({ field: 'phone', message: 'Invalid phone number' });
      }
    }
  });

  it('generates unique RouterOS-safe usernames and account numbers', async () => {
    const first = expectStatus(await api.get('/customers/generate-username?name=Wanjiru%20K%C3%A4mau'), 200) as Body;
    expect(first.username).to.equal('wanjiru.kamau');
    expectStatus(await api.post('/customers', pppoe({ username: first.username, ipAddress: '10.64.6.1' })), 201);
    const second = expectStatus(await api.get('/customers/generate-username?name=Wanjiru%20Kamau'), 200) as Body;
    expect(second.username).to.equal('wanjiru.kamau2');
    const byPhone = expectStatus(await api.get('/customers/generate-username?phone=%2B254712000999'), 200) as Body;
    expect(byPhone.username).to.equal('0712000999');
    const acc = expectStatus(await api.get('/customers/generate-account-number'), 200) as Body;
    expect(acc.accountNumber).to.match(/^[1-9]\d{5}$/);
    const c = expectStatus(await api.post('/customers', pppoe({ ipAddress: '10.64.6.2', additionalAccountNumber: acc.accountNumber })), 201) as Body;
    expect(c.additionalAccountNumber).to.equal(acc.accountNumber);
    const dup = await api.post('/customers', pppoe({ ipAddress: '10.64.6.3', additionalAccountNumber: acc.accountNumber }));
    expect(dup.status).to.equal(409);
    expect((dup.body as ErrorBody).error.field).to.equal('additionalAccountNumber');
  });

  it('generates a readable password by default and reveals it with an audit entry', async () => {
    const c = expectStatus(await api.post('/customers', pppoe({ ipAddress: '10.64.6.9' })), 201) as Body;
    const { password } = expectStatus(await api.get(`/customers/${c.id}/password`), 200) as { password: string };
    expect(password).to.match(/^[a-km-zA-HJ-NP-Z2-9]{10}$/);
    const audit = expectStatus(await api.get(`/audit?entity=customer&entityId=${c.id}`), 200) as { items: Body[] };
    expect(audit.items.map((a) => a.action)).to.include('customer.password.reveal');
  });

  it('stores no customer password in clear in any table', async () => {
    const secret = 'Pl41n-Text-Secret!';
    const c = expectStatus(await api.post('/customers', pppoe({ ipAddress: '10.64.6.10', password: secret })), 201) as Body;
    await api.post(`/customers/${c.id}/send-payment-details`);
    await api.patch(`/customers/${c.id}`, { password: `${secret}2` });
    const tables = await controller.services.db.rows<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' AND data_type IN ('text', 'jsonb', 'character varying')`,
    );
    for (const { table_name, column_name } of tables) {
      const hits = await controller.services.db.rows(`SELECT 1 FROM "${table_name}" WHERE "${column_name}"::text LIKE $1 LIMIT 1`, [`%${secret}%`]);
      expect(hits, `${table_name}.${column_name}`).to.have.length(0);
    }
    const { password } = expectStatus(await api.get(`/customers/${c.id}/password`), 200) as { password: string };
    expect(password).to.equal(`${secret}2`);
  });

  it('the ciphertext is bound to its row', async () => {
    const a = expectStatus(await api.post('/customers', pppoe({ ipAddress: '10.64.6.11' })), 201) as Body;
    const b = expectStatus(await api.post('/customers', pppoe({ ipAddress: '10.64.6.12' })), 201) as Body;
    await controller.services.db.exec('UPDATE customers SET password_enc = (SELECT password_enc FROM customers WHERE id = $1) WHERE id = $2', [a.id, b.id]);
    const res = await api.get(`/customers/${b.id}/password`);
    expect(res.status).to.equal(500);
  });

  it('lists, searches and paginates', async () => {
    const c = expectStatus(await api.post('/customers', pppoe({ ipAddress: '10.64.6.20', fullName: 'Otieno Odhiambo', phone: '0799111222' })), 201) as Body;
    for (const q of ['otieno', '0799111222', '254799111222', c.username, '10.64.6.20']) {
      const list = expectStatus(await api.get(`/customers?search=${encodeURIComponent(q as string)}`), 200) as { items: Body[]; total: number };
      expect(
        list.items.map((i) => i.id),
        q as string,
      ).to.include(c.id);
    }
    const page1 = expectStatus(await api.get('/customers?pageSize=2&page=1'), 200) as { items: Body[]; total: number };
    const page2 = expectStatus(await api.get('/customers?pageSize=2&page=2'), 200) as { items: Body[]; total: number };
    expect(page1.items).to.have.length(2);
    expect(page1.total).to.be.greaterThan(4);
    expect(page1.items.map((i) => i.id)).to.not.include.members(page2.items.map((i) => i.id));
    const inactive = expectStatus(await api.get('/customers?status=inactive'), 200) as { items: Body[] };
    expect(inactive.items.every((i) => i.status === 'inactive')).to.equal(true);
  });

  it('edit, lifecycle and delete write the jobs the router needs', async () => {
    const c = expectStatus(await api.post('/customers', pppoe({ ipAddress: '10.64.6.30' })), 201) as Body;
    const jobs = async () =>
      (expectStatus(await api.get(`/provisioning/jobs?customerId=${c.id}`), 200) as { items: Body[] }).items.map((j) => j.type).reverse();
    expect(expectStatus(await api.post(`/customers/${c.id}/suspend`), 200)).to.include({ status: 'suspended' });
    expect((await api.post(`/customers/${c.id}/suspend`)).status).to.equal(409);
    expect(expectStatus(await api.post(`/customers/${c.id}/unsuspend`), 200)).to.include({ status: 'active' });
    expectStatus(await api.post(`/customers/${c.id}/disconnect`), 200);
    const extended = expectStatus(await api.post(`/customers/${c.id}/extend`, { count: 5, reason: 'router outage on Friday' }), 200) as Body;
    expect(Date.parse(extended.expiresAt as string) - Date.parse(c.expiresAt as string)).to.be.closeTo(5 * 86_400_000, 5000);
    const paid = expectStatus(await api.post(`/customers/${c.id}/payments`, { method: 'mpesa', amount: '1500', reference: 'QAB12CD34' }), 201) as {
      customer: Body;
    };
    expect(Date.parse(paid.customer.expiresAt as string) - Date.parse(extended.expiresAt as string)).to.be.closeTo(30 * 86_400_000, 5000);
    expectStatus(await api.post(`/customers/${c.id}/payments`, { method: 'cash', amount: '200', kind: 'debt' }), 201);
    expect(expectStatus(await api.get(`/customers/${c.id}`), 200) as Body).to.include({ balance: '-200.00', due: '1700.00' });
    expectStatus(await api.patch(`/customers/${c.id}`, { ipAddress: '10.64.6.31' }), 200);
    expectStatus(await api.delete(`/customers/${c.id}`), 200);
    expect(await jobs()).to.deep.equal([
      'customer.apply',
      'customer.apply',
      'customer.apply',
      'customer.disconnect',
      'customer.apply',
      'customer.apply',
      'customer.remove',
    ]);
    const ips = expectStatus(await api.get(`/networks/${world.pppoeNetworkId}/available-ips?prefix=10.64.6.31`), 200) as { ips: string[] };
    expect(ips.ips).to.include('10.64.6.31');
  });
});
