import { expect } from 'chai';
import { ApiClient, expectStatus } from './helpers/client.ts';
import { ADMIN_PASSWORD, startTestController } from './helpers/controller.ts';
import { Fixtures } from './helpers/fixtures.ts';
import { FakeAfricasTalking } from './helpers/africastalking.ts';

type Body = Record<string, unknown>;

describe('Send Payment Details (SMS)', () => {
  let controller: Awaited<ReturnType<typeof startTestController>>;
  let api: ApiClient;
  let fx: Fixtures;
  let world: Awaited<ReturnType<Fixtures['world']>>;
  const at = new FakeAfricasTalking('at-key-123');

  before(async () => {
    await at.start();
    controller = await startTestController();
    api = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
    fx = new Fixtures(api);
    world = await fx.world();
  });
  after(async () => {
    await controller.stop();
    await at.stop();
  });

  let lastHost = 1; // each customer its own address: a random one collided now and then (409)
  const customer = async (extra: Body = {}) =>
    expectStatus(await api.post('/customers', fx.customerBody(world.pppoe.id as string, { ipAddress: `10.64.20.${++lastHost}`, ...extra })), 201) as Body;

  it('stores the message in the outbox with the log provider, password masked', async () => {
    expectStatus(await api.patch('/settings', { paybillNumber: '247247', companyName: 'Kisumu Net' }), 200);
    const c = await customer({ fullName: 'Achieng Otieno', username: 'achieng', additionalAccountNumber: 'MT100200' });
    const sms = expectStatus(await api.post(`/customers/${c.id}/send-payment-details`), 200) as Body;
    expect(sms).to.include({ provider: 'log', status: 'stored', to: c.phone });
    expect(sms.body).to.equal(
      'Dear Achieng, your Kisumu Net ' +
        world.pppoe.name +
        ' account is achieng. Pay KES 1,500.00 via M-Pesa Paybill 247247, account achieng. PPPoE login: achieng, password: ••••••',
    );
    const outbox = expectStatus(await api.get(`/customers/${c.id}/sms`), 200) as { items: Body[] };
    expect(outbox.items.map((m) => m.id)).to.deep.equal([sms.id]);
  });

  it("sends through Africa's Talking: the login with its real password goes to the phone, the store keeps it masked", async () => {
    expectStatus(
      await api.patch('/settings', {
        smsProvider: 'africastalking',
        africastalking: { username: 'kisumunet', apiKey: 'at-key-123', senderId: 'KISUMUNET', baseUrl: at.url },
      }),
      200,
    );
    const settings = expectStatus(await api.get('/settings'), 200) as Body;
    expect(settings.africastalking).to.deep.equal({ username: 'kisumunet', apiKeySet: true, senderId: 'KISUMUNET', baseUrl: at.url });
    expect(JSON.stringify(settings)).to.not.include('at-key-123');
    const c = await customer({ username: 'wekesa', password: 'S3cret-pw', phone: '0722111333' });
    const sms = expectStatus(await api.post(`/customers/${c.id}/send-payment-details`), 200) as Body;
    const sent = at.received.at(-1)!;
    expect(sms).to.include({ provider: 'africastalking', status: 'sent', providerStatus: 'Success', providerMessageId: sent.messageId });
    expect(sent.headers.apikey).to.equal('at-key-123');
    expect(sent.headers.accept).to.equal('application/json');
    expect(sent.form.get('username')).to.equal('kisumunet');
    expect(sent.form.get('to')).to.equal('+254722111333');
    expect(sent.form.get('from')).to.equal('KISUMUNET');
    expect(sent.form.get('message')).to.include('password: S3cret-pw');
    expect(String(sms.body)).to.not.include('S3cret-pw');
  });

  it('records a rejected recipient and a refused key as failed, with the reason', async () => {
    const c = await customer({ phone: '0722000000' });
    const rejected = expectStatus(await api.post(`/customers/${c.id}/send-payment-details`), 200) as Body;
    expect(rejected).to.include({ status: 'failed', providerStatus: 'InvalidPhoneNumber' });
    expect(String(rejected.error)).to.match(/InvalidPhoneNumber \(403\)/);
    expectStatus(await api.patch('/settings', { africastalking: { username: 'kisumunet', apiKey: 'wrong-key' } }), 200);
    const refused = expectStatus(await api.post(`/customers/${c.id}/send-payment-details`), 200) as Body;
    expect(refused).to.include({ status: 'failed' });
    expect(String(refused.error)).to.match(/answered 401: The supplied authentication is invalid/);
  });

  it('is refused to noc and audited for staff', async () => {
    expectStatus(await api.post('/users', { username: 'noc.sms', password: 'noc-sms-password', role: 'noc' }), 201);
    const noc = await new ApiClient(controller.url).login('noc.sms', 'noc-sms-password');
    const c = await customer();
    expect((await noc.post(`/customers/${c.id}/send-payment-details`)).status).to.equal(403);
    await api.post(`/customers/${c.id}/send-payment-details`);
    const audit = expectStatus(await api.get(`/audit?entity=customer&entityId=${c.id}`), 200) as { items: Body[] };
    expect(audit.items.map((a) => a.action)).to.include('customer.send-payment-details');
  });
});
