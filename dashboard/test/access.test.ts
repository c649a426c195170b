import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { CustomerView } from '@mtandao/protocol/api';
import { expectStatus } from '../../controller/test/helpers/client.ts';
import { DESKTOP, screenshot, signIn, textOf, valueOf } from './helpers/browser.ts';
import { person, run } from './helpers/run.ts';
import { activeCustomer } from './helpers/world.ts';

const statusOf = async (id: string) => expectStatus(await run.stack.api.get<CustomerView>(`/customers/${id}`), 200).status;

describe('Sessions, roles and forged requests', function () {
  this.timeout(60_000);

  it('signs in, refuses a wrong password, signs out', async () => {
    const context = await run.browser.newContext({ baseURL: run.stack.url, viewport: DESKTOP });
    const page = await context.newPage();
    await page.goto('/customers');
    expect(new URL(page.url()).pathname).to.equal('/login');
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await textOf(page.getByRole('alert'), 'Wrong username or password');
    await screenshot(page, 'login-error');
    await context.close();

    const s = await signIn(run.browser, run.stack, 'admin');
    const cookie = (await s.context.cookies()).find((c) => c.name === 'mtandao_session')!;
    expect(cookie).to.include({ httpOnly: true, sameSite: 'Strict', secure: false, path: '/' });
    await Promise.all([s.page.waitForURL(/\/login$/), s.page.getByRole('button', { name: 'Log out' }).click()]);
    expect((await s.context.cookies()).some((c) => c.name === 'mtandao_session')).to.equal(false);
    await s.page.goto('/customers');
    expect(new URL(s.page.url()).pathname).to.equal('/login');
    await s.context.close();
  });

  it('a session the controller no longer knows sends the user to the login page', async () => {
    const s = await signIn(run.browser, run.stack, 'staff');
    const token = (await s.context.cookies()).find((c) => c.name === 'mtandao_session')!.value;
    const res = await fetch(`${run.stack.api.baseUrl}/api/v1/auth/logout`, { method: 'POST', headers: { cookie: `mtandao_session=${token}` } });
    expect(res.status).to.equal(200);
    await s.page.goto('/plans');
    expect(new URL(s.page.url()).pathname).to.equal('/login');
    expect(new URL(s.page.url()).searchParams.get('next')).to.equal('/plans');
    await s.context.close();
  });

  it('works on http://localhost as on http://127.0.0.1 (form posts included)', async () => {
    const c = await activeCustomer('Nafula');
    const s = await signIn(run.browser, run.stack, 'staff', { baseURL: `http://localhost:${run.stack.port}` });
    await s.page.goto(`/customers/${c.id}`);
    await s.page.getByRole('button', { name: 'Send Payment Details' }).click();
    await textOf(s.page.getByTestId('notice'), 'Payment details sent by SMS');
    await s.context.close();
  });

  it('refuses a cross-origin form POST (SvelteKit’s origin check)', async () => {
    const c = await activeCustomer('Odhiambo');
    const target = `${run.stack.url}/customers/${c.id}?/suspend`;
    // a page on another origin that posts a form at the dashboard
    const evil = http.createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<form method="POST" action="${target}"><input name="x" value="1"><button>Win a prize</button></form>`);
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    const s = await signIn(run.browser, run.stack, 'staff');
    try {
      await s.page.goto(`http://localhost:${(evil.address() as AddressInfo).port}/`);
      const [response] = await Promise.all([s.page.waitForResponse(target), s.page.getByRole('button', { name: 'Win a prize' }).click()]);
      expect(response.status()).to.equal(403);
      expect(await response.text()).to.contain('Cross-site POST form submissions are forbidden');
      // the same with the session cookie attached (no SameSite to help)
      const forged = await s.context.request.post(target, { form: { x: '1' }, headers: { origin: 'http://evil.example' }, maxRedirects: 0 });
      expect(forged.status()).to.equal(403);
      expect(await statusOf(c.id)).to.equal('active');
    } finally {
      evil.close();
      await s.context.close();
    }
  });

  it('a noc engineer sees no write action, and a forced one is refused with 403', async () => {
    const c = await activeCustomer('Pendo');
    const s = await signIn(run.browser, run.stack, 'noc');
    const { page } = s;
    const nav = page.getByRole('navigation', { name: 'Main' });
    expect(await nav.getByRole('link', { name: 'Add Customer' }).count()).to.equal(0);
    expect(await nav.getByRole('link', { name: 'Provisioning Log' }).count()).to.equal(1);

    await page.goto('/customers');
    expect(await page.getByRole('link', { name: 'Add Customer' }).count()).to.equal(0);
    await page.goto(`/customers/${c.id}`);
    await textOf(page.getByTestId('customer-status'), 'Active');
    expect(await page.getByRole('toolbar', { name: 'Customer actions' }).count()).to.equal(0);
    expect(await page.locator('main form').count()).to.equal(0);
    expect(await page.getByRole('button', { name: 'Reveal' }).count()).to.equal(0);
    await screenshot(page, 'noc-customer-detail');
    for (const path of ['/plans', '/network', '/sites', '/settings', '/provisioning']) {
      await page.goto(path);
      expect(await page.locator('main form[method=POST], main form[method=post]').count(), path).to.equal(0);
      expect(await page.getByRole('link', { name: /^(New plan|Edit)$/ }).count(), path).to.equal(0);
    }
    const direct = await page.goto('/customers/new');
    expect(direct?.status()).to.equal(403);

    // forcing the form action anyway, as a browser posts a form: the controller's 403 comes back
    const asForm = { origin: run.stack.url, accept: 'text/html' };
    const forced = await s.context.request.post(`${run.stack.url}/customers/${c.id}?/suspend`, { form: {}, headers: asForm });
    expect(forced.status()).to.equal(403);
    expect(await forced.text()).to.contain('Your role (noc) may not do this');
    const created = await s.context.request.post(`${run.stack.url}/customers/new?/create`, {
      form: { connectionType: 'static', planId: run.stack.world.plans.static.id, ipAddress: '172.16.10.14', ...person('Noc'), 'payment.method': 'cash' },
      headers: asForm,
    });
    expect(created.status()).to.equal(403);
    // and as SvelteKit's enhanced forms post it (JSON answer)
    const enhanced = await s.context.request.post(`${run.stack.url}/customers/${c.id}?/suspend`, {
      form: {},
      headers: { origin: run.stack.url, accept: 'application/json', 'x-sveltekit-action': 'true' },
    });
    expect(await enhanced.json()).to.include({ type: 'failure', status: 403 });
    expect(await statusOf(c.id)).to.equal('active');
    await s.context.close();
  });

  it('Add Customer works without JavaScript (Static, the /28 dropdown, Generate Username)', async () => {
    const s = await signIn(run.browser, run.stack, 'staff', { javaScriptEnabled: false });
    const { page } = s;
    const { world } = run.stack;
    const who = person('Rehema');
    await page.goto('/customers/new');
    await page.getByRole('radio', { name: /^Static/ }).check();
    await page.getByRole('button', { name: 'Show plans' }).click();
    await page.getByLabel('Internet Plan', { exact: true }).selectOption(world.plans.static.id);
    await page.getByRole('button', { name: 'Show network addresses' }).click();
    expect(await page.getByLabel('Network Address', { exact: true }).inputValue()).to.equal(world.staticNetwork.id);
    const ips = (await page.getByLabel('IP Address', { exact: true }).locator('option').allTextContents()).slice(1);
    expect(ips.length).to.be.greaterThan(0);
    await page.getByLabel('IP Address', { exact: true }).selectOption(ips[0]!);
    await page.getByLabel('Full Name', { exact: true }).fill(who.fullName);
    await page.getByLabel('Phone Number', { exact: true }).fill(who.phone);
    await page.getByRole('button', { name: 'Generate Username' }).click();
    const username = await valueOf(page.getByLabel('Username', { exact: true }));
    // what was typed and chosen survives the round trip
    expect(await page.getByLabel('Full Name', { exact: true }).inputValue()).to.equal(who.fullName);
    expect(await page.getByLabel('IP Address', { exact: true }).inputValue()).to.equal(ips[0]);
    await screenshot(page, 'add-customer-no-js');
    await Promise.all([page.waitForURL(/\/customers\/\d+/), page.getByRole('button', { name: 'Add Customer' }).click()]);
    await textOf(page.getByTestId('customer-status'), 'Active');
    expect(await page.locator('main').textContent())
      .to.contain(username)
      .and.contain(ips[0]!);

    // a /16 without JavaScript: the IP picker is a text field, and a refusal shows at it
    await page.goto('/customers/new');
    await page.getByRole('radio', { name: /^PPPoE/ }).check();
    await page.getByRole('button', { name: 'Show plans' }).click();
    await page.getByLabel('Internet Plan', { exact: true }).selectOption(world.plans.pppoe.id);
    await page.getByRole('button', { name: 'Show network addresses' }).click();
    expect(await page.locator('#ipAddress').getAttribute('type')).to.equal('text');
    await page.getByLabel('Full Name', { exact: true }).fill(who.fullName);
    await page.getByLabel('Phone Number', { exact: true }).fill(who.phone);
    await page.getByLabel('Username', { exact: true }).fill(`${username}.2`);
    await page.getByRole('button', { name: 'Add Customer' }).click();
    await textOf(page.locator('#ipAddress-error'), 'IP address is required');
    await s.context.close();
  });
});
