import { expect } from 'chai';
import { ApiClient, expectStatus } from './helpers/client.ts';
import { ADMIN_PASSWORD, startTestController } from './helpers/controller.ts';
import { Fixtures } from './helpers/fixtures.ts';
import { FakeAfricasTalking } from './helpers/africastalking.ts';
import { eventually } from './helpers/stack.ts';

type Body = Record<string, unknown>;

describe('SMS automation: templates, outbox, delivery reports, bulk', function () {
  this.timeout(30_000);
  let controller: Awaited<ReturnType<typeof startTestController>>;
  let api: ApiClient;
  let fx: Fixtures;
  let world: Awaited<ReturnType<Fixtures['world']>>;
  const at = new FakeAfricasTalking('at-key-auto');
  let n = 0;

  before(async function () {
    this.timeout(120_000); // the embedded database starts slowly on a busy machine
    await at.start();
    controller = await startTestController({ MTANDAO_SMS_POLL_MS: '100', MTANDAO_EXPIRY_SWEEP_SECONDS: '60' });
    api = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
    fx = new Fixtures(api);
    world = await fx.world();
    expectStatus(
      await api.patch('/settings', {
        paybillNumber: '247247',
        companyName: 'Nakuru Net',
        smsProvider: 'africastalking',
        africastalking: { username: 'nakurunet', apiKey: 'at-key-auto', baseUrl: at.url },
      }),
      200,
    );
  });
  after(async () => {
    await controller.stop();
    await at.stop();
  });

  const customer = async (extra: Body = {}) =>
    expectStatus(await api.post('/customers', fx.customerBody(world.pppoe.id as string, { ipAddress: `10.64.30.${++n + 1}`, ...extra })), 201) as Body;
  const outbox = async (customerId: string) => (expectStatus(await api.get(`/customers/${customerId}/sms`), 200) as { items: Body[] }).items;

  it('shows the default templates with a live preview from sample data, and the delivery-report URL', async () => {
    const t = expectStatus(await api.get('/settings/sms-templates'), 200) as Body & { templates: Body; preview: Body };
    expect(t.reminderDays).to.deep.equal([3, 1]);
    expect(t.placeholders).to.deep.equal(['name', 'username', 'account', 'amount', 'balance', 'plan', 'expiry', 'paybill', 'company']);
    expect(String(t.preview.expired)).to.equal(
      'Dear Achieng, your Nakuru Net Home 10 Mbps expired on 31 Jan 2027 14:05. Pay KES 1,500.00 via M-Pesa Paybill 247247, account ACH1001, to reconnect.',
    );
    expect(String(t.deliveryReportUrl)).to.match(/\/api\/v1\/sms\/delivery-report\/[\w-]{20,}$/);
  });

  it('saves templates and reminder days, and names the field of a bad one', async () => {
    const bad = await api.request('PUT', '/settings/sms-templates', { templates: { expired: '' } });
    expect(bad.status).to.be.oneOf([400, 422]);
    expect(JSON.stringify(bad.body)).to.include('templates.expired');
    const badDays = await api.request('PUT', '/settings/sms-templates', { reminderDays: [0] });
    expect(badDays.status).to.be.oneOf([400, 422]);
    expect(JSON.stringify(badDays.body)).to.include('reminderDays');
    const saved = expectStatus(
      await api.request('PUT', '/settings/sms-templates', {
        templates: { welcome: 'Karibu {name} to {company}! Account {account}.' },
        reminderDays: [1, 5, 5],
        welcomeEnabled: true,
      }),
      200,
    ) as Body & { preview: Body };
    expect(saved.reminderDays).to.deep.equal([5, 1]);
    expect(saved.preview.welcome).to.equal('Karibu Achieng to Nakuru Net! Account ACH1001.');
    const again = expectStatus(await api.get('/settings/sms-templates'), 200) as Body & { templates: Body };
    expect(again.templates.welcome).to.equal('Karibu {name} to {company}! Account {account}.');
    expect(again.welcomeEnabled).to.equal(true);
  });

  it('welcomes a new customer through the outbox, sent by the fake gateway', async () => {
    const c = await customer({ fullName: 'Kiprono Langat', phone: '0711222333' });
    const sent = await eventually(async () => (await outbox(c.id as string)).find((m) => m.kind === 'welcome' && m.status === 'sent'), 'the welcome sent');
    expect(sent.body).to.equal(`Karibu Kiprono to Nakuru Net! Account ${c.accountNumber}.`);
    expect(sent.attempts).to.equal(1);
    expect(at.to('254711222333').map((m) => m.form.get('message'))).to.deep.equal([sent.body]);
  });

  it('retries a message the gateway failed, with backoff, then sends it', async () => {
    at.failNext(1);
    const c = await customer({ phone: '0711222444' });
    const retrying = await eventually(
      async () => (await outbox(c.id as string)).find((m) => m.kind === 'welcome' && m.status === 'queued' && m.attempts === 1),
      'a retry scheduled',
    );
    expect(String(retrying.error)).to.match(/answered 500.*attempt 1 of 5; retrying in \d+ s/);
    const row = (await controller.services.db.rows<{ next_attempt_at: Date }>('SELECT next_attempt_at FROM sms_messages WHERE id = $1', [retrying.id]))[0]!;
    expect(new Date(row.next_attempt_at).getTime() - Date.now()).to.be.within(15_000, 31_000);
    // the backoff is due (as if 30 s passed)
    await controller.services.db.exec('UPDATE sms_messages SET next_attempt_at = now() WHERE id = $1', [retrying.id]);
    const sent = await eventually(async () => (await outbox(c.id as string)).find((m) => m.id === retrying.id && m.status === 'sent'), 'the retry sent');
    expect(sent.attempts).to.equal(2);
  });

  it('updates each message from delivery reports, with the failure reason; a wrong token is a 404', async () => {
    const t = expectStatus(await api.get('/settings/sms-templates'), 200) as Body;
    const url = String(t.deliveryReportUrl);
    const ok = await customer({ phone: '0711222555' });
    const bad = await customer({ phone: '0711222666' });
    const okMsg = await eventually(async () => (await outbox(ok.id as string)).find((m) => m.status === 'sent'), 'sent');
    const badMsg = await eventually(async () => (await outbox(bad.id as string)).find((m) => m.status === 'sent'), 'sent');
    expect(
      (await at.report(url.replace(/[\w-]+$/, 'wrong-token'), { id: String(okMsg.providerMessageId), status: 'Success', phoneNumber: '+254711222555' })).status,
    ).to.equal(404);
    expect((await at.report(url, { id: String(okMsg.providerMessageId), status: 'Buffered', phoneNumber: '+254711222555' })).status).to.equal(200);
    expect((await at.report(url, { id: String(okMsg.providerMessageId), status: 'Success', phoneNumber: '+254711222555' })).status).to.equal(200);
    expect(
      (await at.report(url, { id: String(badMsg.providerMessageId), status: 'Failed', phoneNumber: '+254711222666', failureReason: 'UserIsInactive' })).status,
    ).to.equal(200);
    // a late intermediate report does not undo a final one
    expect((await at.report(url, { id: String(okMsg.providerMessageId), status: 'Submitted', phoneNumber: '+254711222555' })).status).to.equal(200);
    const okNow = (await outbox(ok.id as string)).find((m) => m.id === okMsg.id)!;
    expect(okNow).to.include({ status: 'delivered', providerStatus: 'Success' });
    expect(okNow.deliveredAt).to.be.a('string');
    const badNow = (await outbox(bad.id as string)).find((m) => m.id === badMsg.id)!;
    expect(badNow).to.include({ status: 'failed', providerStatus: 'Failed', failureReason: 'UserIsInactive' });
    const missing = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'status=Success' });
    expect(missing.status).to.equal(400);
  });

  it('sends a bulk SMS to a filtered list only after the count is confirmed', async () => {
    const tag = `bulkz${Date.now().toString(36)}`;
    const a = await customer({ fullName: `Amina ${tag}`, phone: '0711333001' });
    const b = await customer({ fullName: `Baraka ${tag}`, phone: '0711333002' });
    const message = 'Hello {name}, maintenance tonight. {company}';
    const preview = expectStatus(await api.post('/sms/bulk/preview', { filter: { search: tag }, message }), 200) as Body;
    expect(preview.count).to.equal(2);
    expect(String(preview.sample)).to.match(/^Hello (Amina|Baraka), maintenance tonight\. Nakuru Net$/);
    const stale = await api.post('/sms/bulk', { filter: { search: tag }, message, confirmCount: 3 });
    expect(stale.status).to.equal(409);
    expect((stale.body as { error: { field: string } }).error.field).to.equal('confirmCount');
    expect((await api.post('/sms/bulk', { filter: { search: tag }, message })).status).to.be.oneOf([400, 422]);
    const done = expectStatus(await api.post('/sms/bulk', { filter: { search: tag }, message, confirmCount: 2 }), 202) as Body;
    expect(done.queued).to.equal(2);
    for (const c of [a, b]) {
      const m = await eventually(async () => (await outbox(c.id as string)).find((x) => x.kind === 'bulk' && x.status === 'sent'), 'the bulk message sent');
      expect(m.body).to.match(/^Hello (Amina|Baraka), maintenance tonight\. Nakuru Net$/);
    }
  });

  it('sends a receipt for a payment, queued in the payment transaction, once per ledger entry', async () => {
    const c = await customer({ phone: '0711444001' });
    const paid = expectStatus(await api.post(`/customers/${c.id}/payments`, { method: 'cash', amount: '1500.00' }), 201) as { payment: Body; customer: Body };
    const receipts = await eventually(async () => {
      const r = (await outbox(c.id as string)).filter((m) => m.kind === 'receipt');
      return r.length > 0 && r.every((m) => m.status === 'sent') ? r : undefined;
    }, 'the receipt sent');
    expect(receipts).to.have.length(1);
    expect(receipts[0]!.body).to.match(/we received KES 1,500\.00 for account/);
    // the hook again for the same entry (a retried callback, say) queues nothing
    await controller.services.db.transaction((tx) => controller.services.sms.paymentReceived(c.id as string, paid.payment.id as string, tx));
    expect((await outbox(c.id as string)).filter((m) => m.kind === 'receipt')).to.have.length(1);
  });
});
