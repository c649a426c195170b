import { expect } from 'chai';
import { unzipSync, strFromU8 } from 'fflate';
import type { DarajaFake } from '../../src/mpesa/fake/daraja-fake.ts';
import { expectStatus } from '../helpers/client.ts';
import { callback, setUpMpesa, startFake } from '../helpers/mpesa.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';

type Body = Record<string, unknown>;
const inputs = (html: string): Record<string, string> =>
  Object.fromEntries(
    [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [
      m[1]!,
      m[2]!.replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c))),
    ]),
  );
const actionOf = (html: string): string => /<form[^>]*action="([^"]+)"/.exec(html)![1]!.replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c)));

describe('Captive portal end to end', () => {
  let fake: DarajaFake;
  let stack: Stack;
  let siteId: string;
  let urls: { stkCallback: string };
  before(async () => {
    fake = await startFake();
    stack = await startStack({ env: { MTANDAO_DARAJA_URL: fake.url } });
    await stack.startAgentInProcess({ hotspotIntervalMs: 300 });
    ({ urls } = await setUpMpesa(stack.api));
    siteId = stack.world.site.id as string;
    await stack.sim.hotspotHttp.start('127.0.0.1', 0);
    // the operator uploads the login.html of hotspot-files.zip to the router
    const zip = await fetch(`${stack.controller.url}/api/v1/routers/${stack.world.router.id}/hotspot-files.zip`, {
      headers: { cookie: stack.api.cookie ?? '' },
    });
    expect(zip.status).to.equal(200);
    const files = unzipSync(new Uint8Array(await zip.arrayBuffer()));
    stack.sim.hotspotHttp.files.set('login.html', strFromU8(files['hotspot/login.html']!));
  });
  after(async () => {
    await stack?.stop();
    await fake?.stop();
  });

  /** A phone opening a website behind the hotspot: the router's login.html, submitted to the portal. */
  const arrive = async (mac: string, ip: string) => {
    const loginHtml = await (await fetch(stack.sim.hotspotHttp.loginUrl({ mac, ip }, 'http://example.com/'))).text();
    const q = new URLSearchParams(inputs(loginHtml));
    const url = `${actionOf(loginHtml)}?${q}`;
    expect(url).to.contain(`/portal/${siteId}`);
    const res = await fetch(url);
    return { res, html: await res.text(), vars: inputs(loginHtml) };
  };
  const post = (path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${stack.controller.url}${path}`, { method: 'POST', body: new URLSearchParams(form), redirect: 'manual', headers });

  it('lists the site\u2019s hotspot plans with prices, under a strict CSP and small', async () => {
    const { res, html } = await arrive('02:00:00:00:10:01', '10.5.50.31');
    expect(res.status).to.equal(200);
    expect(html)
      .to.contain(stack.world.hotspot.name as string)
      .and.contain('50.00');
    expect(res.headers.get('content-security-policy')).to.contain("default-src 'none'");
    expect(Buffer.byteLength(html)).to.be.below(30 * 1024);
  });

  it('answers bad input of any shape with a 4xx page, never a 500', async () => {
    const { vars } = await arrive('02:00:00:00:10:09', '10.5.50.39');
    const base = stack.controller.url;
    const bad: [string, RequestInit][] = [
      [`/portal/abc`, {}],
      [`/portal/99999999999999999999`, {}],
      [`/portal/${siteId}?mac=zz&link-login-only=javascript:alert(1)`, {}],
      [`/portal/${siteId}?mac=02:00:00:00:10:09&mac=02:00:00:00:10:10&link-login-only=http://x/`, {}],
      [`/portal/${siteId}/purchase/not-a-token`, {}],
      [`/portal/${siteId}/buy`, { method: 'POST', body: new URLSearchParams({ ...vars, planId: '1e99', phone: '12' }) }],
      [`/portal/${siteId}/buy`, { method: 'POST', body: new URLSearchParams({ ...vars, planId: stack.world.hotspot.id as string, phone: '0712\u0000' }) }],
      [`/portal/${siteId}/buy`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"planId":[1]}' }],
      [`/portal/${siteId}/voucher`, { method: 'POST', body: new URLSearchParams({ ...vars, code: 'x'.repeat(5000) }) }],
      [`/portal/${siteId}/voucher`, { method: 'POST', body: 'code[a]=1&code[b]=2' }],
      [`/portal/${siteId}/account`, { method: 'POST', body: new URLSearchParams({ ...vars, username: "a' OR 1=1 --", password: '' }) }],
    ];
    for (const [path, init] of bad) {
      const res = await fetch(`${base}${path}`, {
        redirect: 'manual',
        ...init,
        headers: { 'x-forwarded-for': '10.8.8.8', ...(init.headers as Record<string, string> | undefined) },
      });
      expect(res.status, `${init.method ?? 'GET'} ${path}`).to.be.within(400, 499);
      await res.text();
    }
  });

  it('explains to connect through the hotspot when opened without MikroTik\u2019s variables', async () => {
    const res = await fetch(`${stack.controller.url}/portal/${siteId}`);
    expect(res.status).to.equal(400);
    expect(await res.text()).to.contain('Connect to the');
  });

  it('an STK purchase through the Daraja fake ends with the device logged in within 10 s of the callback', async () => {
    const mac = '02:00:00:00:10:02';
    const { vars } = await arrive(mac, '10.5.50.32');
    const buy = await post(`/portal/${siteId}/buy`, { ...vars, planId: stack.world.hotspot.id as string, phone: '0712000111' });
    expect(buy.status).to.equal(303);
    const purchaseUrl = `${stack.controller.url}${buy.headers.get('location')}`;
    const push = await eventually(async () => {
      const list = expectStatus(await stack.api.get('/mpesa/transactions?pageSize=5'), 200) as { items: Body[] };
      return list.items.find((t) => t.source === 'stk') ? true : undefined;
    }, 'the STK callback');
    expect(push).to.equal(true);
    const paidAt = Date.now();
    // the phone's page refreshes until it can log in, then posts the router's own form
    const form = await eventually(
      async () => {
        const html = await (await fetch(purchaseUrl)).text();
        return html.includes('name="login"') ? html : undefined;
      },
      'the login form',
      10_000,
    );
    const login = await fetch(actionOf(form), { method: 'POST', body: new URLSearchParams(inputs(form)) });
    expect(await login.text()).to.contain('You are online');
    const session = stack.sim.store.list('/ip/hotspot/active').find((s) => s['mac-address'] === mac);
    const elapsed = Date.now() - paidAt;
    expect(session, 'an active entry for the device').to.not.equal(undefined);
    expect(elapsed).to.be.below(10_000);
    console.log(`      callback → device online: ${elapsed} ms`);
    // the buyer is a hotspot customer now, recognised by phone next time
    const customers = expectStatus(await stack.api.get('/customers?search=0712000111'), 200) as { items: Body[] };
    expect(customers.items[0]).to.include({ connectionType: 'hotspot', status: 'active' });
    // the receipt and the login details reach the phone; the stored copy hides the password
    const sms = await eventually(async () => {
      const got = expectStatus(await stack.api.get(`/sms?customerId=${customers.items[0]!.id}`), 200) as { items: Body[] };
      return got.items.find((m) => String(m.body).includes('log in with username')) ? got.items : undefined;
    }, 'the login SMS');
    expect(sms.find((m) => String(m.body).includes('log in with username'))!.body).to.contain('••••••');

    // back another day on another phone: the details from the SMS log it in
    const buyer = customers.items[0]!;
    const password = (expectStatus(await stack.api.get(`/customers/${buyer.id}/password`), 200) as { password: string }).password;
    const other = await arrive('02:00:00:00:10:07', '10.5.50.37');
    const wrong = await post(`/portal/${siteId}/account`, { ...other.vars, username: buyer.username as string, password: 'nope' });
    expect(wrong.status).to.equal(422);
    const back = await (await post(`/portal/${siteId}/account`, { ...other.vars, username: buyer.username as string, password })).text();
    expect(inputs(back)).to.include({ username: buyer.username });
    expect(inputs(back).password).to.match(/^[0-9a-f]{32}$/);
  });

  it('an abandoned prompt ends the waiting page with a clear message and charges nothing; a second tap sends no second prompt', async () => {
    const { vars } = await arrive('02:00:00:00:10:03', '10.5.50.33');
    fake.nextStk.push({ resultCode: 1032, callback: false });
    const buy = await post(`/portal/${siteId}/buy`, { ...vars, planId: stack.world.hotspot.id as string, phone: '0712001032' });
    const again = await post(`/portal/${siteId}/buy`, { ...vars, planId: stack.world.hotspot.id as string, phone: '0712001032' });
    expect(again.headers.get('location')).to.equal(buy.headers.get('location'));
    const purchaseUrl = `${stack.controller.url}${buy.headers.get('location')}`;
    expect(await (await fetch(purchaseUrl)).text()).to.contain('Check your phone');
    // the customer cancels on the phone: Daraja calls back with 1032
    const [buyer] = (expectStatus(await stack.api.get('/customers?search=0712001032'), 200) as { items: Body[] }).items;
    const pushes = (expectStatus(await stack.api.get(`/customers/${buyer!.id}/stk-pushes`), 200) as { items: Body[] }).items;
    expect(pushes).to.have.length(1);
    const cb = await callback(stack.controller.url, new URL(urls.stkCallback).pathname.replace('/api/v1/callbacks', ''), {
      Body: {
        stkCallback: {
          MerchantRequestID: pushes[0]!.merchantRequestId,
          CheckoutRequestID: pushes[0]!.checkoutRequestId,
          ResultCode: 1032,
          ResultDesc: 'Request cancelled by user',
        },
      },
    });
    expect(cb.status).to.equal(200);
    const html = await eventually(async () => {
      const h = await (await fetch(purchaseUrl)).text();
      return h.includes('not completed') ? h : undefined;
    }, 'the failed page');
    expect(html).to.contain('You cancelled').and.contain('Nothing was charged');
  });

  it('a voucher code logs the device in through the router (CHAP), and a second device on a one-user plan gets a clear message', async () => {
    const batch = expectStatus(await stack.api.post('/vouchers/batches', { planId: stack.world.hotspot.id, count: 2 }), 201) as Body;
    const [v] = (expectStatus(await stack.api.get(`/vouchers?batchId=${batch.id}`), 200) as { items: Body[] }).items;
    await eventually(
      async () => (stack.sim.store.lookup('/ip/hotspot/user', 'name', v!.code as string)?.length ? true : undefined),
      'the voucher on the router',
    );
    const first = await arrive('02:00:00:00:10:04', '10.5.50.34');
    const page = await (await post(`/portal/${siteId}/voucher`, { ...first.vars, code: (v!.code as string).toLowerCase() })).text();
    const fields = inputs(page);
    expect(fields.password).to.match(/^[0-9a-f]{32}$/);
    expect(await (await fetch(actionOf(page), { method: 'POST', body: new URLSearchParams(fields) })).text()).to.contain('You are online');
    expect(stack.sim.store.list('/ip/hotspot/active').find((s) => s.user === v!.code)).to.include({ 'login-by': 'http-chap' });

    const second = await arrive('02:00:00:00:10:05', '10.5.50.35');
    const again = await (await post(`/portal/${siteId}/voucher`, { ...second.vars, code: v!.code as string })).text();
    const refused = await (await fetch(actionOf(again), { method: 'POST', body: new URLSearchParams(inputs(again)) })).text();
    // the router's login page sends the device back to the portal with its error
    const back = await fetch(`${actionOf(refused)}?${new URLSearchParams(inputs(refused))}`);
    expect(await back.text()).to.contain('already in use on another device');
  });

  it('locks out an address after five wrong codes, and a MAC whatever address it moves to', async () => {
    const { vars } = await arrive('02:00:00:00:10:06', '10.5.50.36');
    const statuses: number[] = [];
    // the portal sits behind a loopback proxy here: X-Forwarded-For is the device's address
    for (let i = 0; i < 6; i++)
      statuses.push((await post(`/portal/${siteId}/voucher`, { ...vars, code: `ZZZZ${i}WRONG` }, { 'x-forwarded-for': '10.9.9.9' })).status);
    expect(statuses).to.deep.equal([422, 422, 422, 422, 422, 429]);
    const moved = await post(`/portal/${siteId}/voucher`, { ...vars, code: 'ZZZZWRONG' }, { 'x-forwarded-for': '10.9.9.10' });
    expect(moved.status).to.equal(429);
    expect(await moved.text()).to.contain('Too many wrong codes');
    const other = await arrive('02:00:00:00:10:08', '10.5.50.38');
    expect((await post(`/portal/${siteId}/voucher`, { ...other.vars, code: 'ZZZZWRONG' }, { 'x-forwarded-for': '10.9.9.11' })).status).to.equal(422);
  });
});
