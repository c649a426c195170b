import { expect } from 'chai';
import type { Page } from 'playwright-core';
import type { CustomerView, PlanView } from '@mtandao/protocol/api';
import { expectStatus } from '../../controller/test/helpers/client.ts';
import { fieldError, screenshot, textOf, valueOf } from './helpers/browser.ts';
import { person, run, sessionPerTest } from './helpers/run.ts';
import { eventually } from './helpers/stack.ts';
import { hotspotPlan } from './helpers/world.ts';

/** Fills Step 4 (details); answers the username the Generate Username button made. */
async function fillDetails(page: Page, who: { fullName: string; phone: string }): Promise<string> {
  await page.getByLabel('Full Name', { exact: true }).fill(who.fullName);
  await page.getByLabel('Phone Number', { exact: true }).fill(who.phone);
  await page.getByRole('button', { name: 'Generate Username' }).click();
  return valueOf(page.getByLabel('Username', { exact: true }));
}

const addCustomer = (page: Page) => Promise.all([page.waitForURL(/\/customers\/\d+/), page.getByRole('button', { name: 'Add Customer' }).click()]);
const customerIdOf = (page: Page) => /\/customers\/(\d+)/.exec(page.url())![1]!;

describe('Add Customer (Sidebar → Users → Add Customer)', function () {
  this.timeout(60_000);
  const s = sessionPerTest('staff');

  it('"No plans appear": the hint links to Internet Plans, and the plan made there is offered', async () => {
    const { api, world } = run.stack;
    // the world has no Hotspot plan (world.ts); one left by an earlier run of this test goes
    for (const p of expectStatus(await api.get<{ items: PlanView[] }>('/plans?connectionType=hotspot'), 200).items)
      expectStatus(await api.delete(`/plans/${p.id}`), 200);
    const { page } = s;
    await page.goto('/customers/new');
    await page.getByRole('link', { name: 'Add Customer' }).first().waitFor();
    await page.getByRole('radio', { name: /^Hotspot/ }).check();
    await textOf(page.getByTestId('no-plans'), 'No plans appear');
    expect(await page.getByTestId('no-plans').textContent()).to.contain('create a plan under Internet Plans');
    await screenshot(page, 'add-customer-no-plans');
    await page.getByRole('link', { name: 'Create a Hotspot plan' }).click();
    await page.waitForURL(/\/plans\/new\?connectionType=hotspot/);
    expect(await page.getByRole('radio', { name: 'Hotspot' }).isChecked()).to.equal(true);

    // the help page's plan error, at its field
    await page.getByRole('button', { name: 'Create plan' }).click();
    await fieldError(page, 'name', 'Name, price, speed and validity are required');
    await screenshot(page, 'plan-new-error');

    await page.getByLabel('Name', { exact: true }).fill('Daily 5 Mbps');
    await page.getByLabel(/^Price/).fill('50');
    await page.getByLabel('Download speed', { exact: true }).fill('5M');
    await page.getByLabel('Upload speed', { exact: true }).fill('2M');
    await page.getByLabel('Validity', { exact: true }).fill('1');
    await page.getByLabel('Unit', { exact: true }).selectOption('days');
    await page.getByLabel(/^Shared users/).fill('1');
    await page.getByRole('checkbox', { name: new RegExp(world.router.name) }).check();
    await Promise.all([page.waitForURL(/\/customers\/new\?connectionType=hotspot&planId=\d+/), page.getByRole('button', { name: 'Create plan' }).click()]);
    const planId = new URL(page.url()).searchParams.get('planId')!;
    expect(await valueOf(page.getByLabel('Internet Plan', { exact: true }))).to.equal(planId);
    expect((await hotspotPlan()).id).to.equal(planId);
  });

  it('adds a PPPoE customer: a /16 searched by prefix, the status turns applied live, the secret is on the router', async () => {
    const { page } = s;
    const { world, sim } = run.stack;
    const who = person('Amina');
    await page.goto('/customers/new');
    await screenshot(page, 'add-customer-start');
    await page.getByRole('radio', { name: /^PPPoE/ }).check();
    await page.getByLabel('Internet Plan', { exact: true }).selectOption(world.plans.pppoe.id);
    // one block in the plan's pool: selected for the staff member
    expect(await valueOf(page.getByLabel('Network Address', { exact: true }))).to.equal(world.pppoeNetwork.id);

    const ip = page.getByRole('combobox', { name: 'IP Address' });
    await ip.pressSequentially('10.64.77', { delay: 20 });
    const options = page.getByRole('listbox', { name: 'Available IP addresses' }).getByRole('option');
    await eventually(async () => ((await options.count()) > 5 ? true : undefined), 'suggestions');
    const shown = (await options.allTextContents()).map((t) => t.trim());
    expect(shown.every((t) => t.startsWith('10.64.77'))).to.equal(true, shown.join(', '));
    await screenshot(page, 'add-customer-ip-search');
    await page.getByRole('option', { name: '10.64.77.12', exact: true }).click();
    expect(await ip.inputValue()).to.equal('10.64.77.12');

    const username = await fillDetails(page, who);
    const password = page.locator('#password');
    expect(await password.getAttribute('type')).to.equal('password');
    const generated = await valueOf(password);
    expect(generated).to.have.length.greaterThanOrEqual(8);
    await page.getByRole('button', { name: 'Show password' }).click();
    expect(await password.getAttribute('type')).to.equal('text');

    await page.getByText('Add Additional Account Number').click();
    // switched on, it offers a short number at once; Generate picks another
    const offered = await valueOf(page.getByLabel('Additional Account Number', { exact: true }));
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const account = await valueOf(page.getByLabel('Additional Account Number', { exact: true }), (v) => v !== '' && v !== offered);
    await page.getByRole('radio', { name: 'M-Pesa' }).check();
    await page.getByLabel(/^Payment Reference/).fill('QGH7ABC123');
    await page.getByText('Charge Installation Fee').click();
    await page.getByLabel(/^Installation Fee/).fill('2,000');
    await screenshot(page, 'add-customer-pppoe-filled');

    await addCustomer(page);
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1));
    await textOf(page.getByTestId('customer-status'), 'Active');
    await textOf(page.getByTestId('latest-job-status'), 'Applied', 20_000);
    // no reload happened: the status followed the router in place
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).to.equal(1);
    await screenshot(page, 'customer-detail-after-add');

    const secret = await eventually(async () => sim.store.list('/ppp/secret').find((r) => r.name === username), 'the PPPoE secret');
    expect(secret).to.include({ 'remote-address': '10.64.77.12', password: generated, disabled: 'false' });
    const c = expectStatus(await run.stack.api.get<CustomerView>(`/customers/${customerIdOf(page)}`), 200);
    expect(c).to.include({ username, additionalAccountNumber: account, ipAddress: '10.64.77.12', status: 'active' });
  });

  it('adds a Static customer from the /28 dropdown of every available IP', async () => {
    const { page } = s;
    const { world, sim } = run.stack;
    await page.goto('/customers/new');
    await page.getByRole('radio', { name: /^Static/ }).check();
    await page.getByLabel('Internet Plan', { exact: true }).selectOption(world.plans.static.id);
    expect(await valueOf(page.getByLabel('Network Address', { exact: true }))).to.equal(world.staticNetwork.id);
    const select = page.getByRole('combobox', { name: 'IP Address' });
    await eventually(async () => ((await select.locator('option').count()) > 1 ? true : undefined), 'the IP dropdown');
    const offered = (await select.locator('option').allTextContents()).slice(1);
    // a /28 holds 14 hosts; the gateway is never offered
    expect(offered).to.not.include('172.16.10.1');
    expect(offered.length).to.be.within(1, 13);
    expect(offered.every((ip) => ip.startsWith('172.16.10.'))).to.equal(true);
    const chosen = offered.at(-1)!;
    await select.selectOption(chosen);
    await fillDetails(page, person('Baraka'));
    await screenshot(page, 'add-customer-static');
    await addCustomer(page);
    await textOf(page.getByTestId('latest-job-status'), 'Applied', 20_000);
    await eventually(async () => sim.store.list('/ip/firewall/address-list').find((a) => a.address === chosen), 'the address-list entry');
  });

  it('adds a Hotspot customer, skipping the network step', async () => {
    const { page } = s;
    const { sim } = run.stack;
    await page.goto('/customers/new');
    await page.getByRole('radio', { name: /^Hotspot/ }).check();
    await page.getByLabel('Internet Plan', { exact: true }).selectOption((await hotspotPlan()).id);
    expect(await page.getByLabel('Network Address', { exact: true }).count()).to.equal(0);
    expect(await page.getByText('Network Address & IP').count()).to.equal(0);
    const username = await fillDetails(page, person('Chebet'));
    await screenshot(page, 'add-customer-hotspot');
    await addCustomer(page);
    await textOf(page.getByTestId('latest-job-status'), 'Applied', 20_000);
    await eventually(async () => sim.store.list('/ip/hotspot/user').find((u) => u.name === username), 'the hotspot user');
  });

  it('Auto Activate No: the customer is inactive and nothing goes to the router', async () => {
    const { page } = s;
    await page.goto('/customers/new');
    await page.getByRole('radio', { name: /^Hotspot/ }).check();
    await page.getByLabel('Internet Plan', { exact: true }).selectOption((await hotspotPlan()).id);
    const username = await fillDetails(page, person('Dalmas'));
    await page.getByRole('radio', { name: 'No', exact: true }).check();
    await addCustomer(page);
    await textOf(page.getByTestId('customer-status'), 'Inactive');
    await textOf(page.getByTestId('router-status'), 'Nothing sent yet');
    expect(await page.locator('summary', { hasText: /^Activate$/ }).count()).to.equal(1);
    expect(run.stack.sim.store.list('/ip/hotspot/user').some((u) => u.name === username)).to.equal(false);
  });

  it('shows each help-page error at its field, in its words', async () => {
    const { page } = s;
    const { world, api } = run.stack;
    const taken = expectStatus(await api.get<{ items: CustomerView[] }>('/customers?pageSize=1'), 200).items[0]!;
    await page.goto('/customers/new');
    await page.getByRole('radio', { name: /^PPPoE/ }).check();
    await page.getByLabel('Internet Plan', { exact: true }).selectOption(world.plans.pppoe.id);
    const who = person('Esther');
    await fillDetails(page, who);
    const submit = () => page.getByRole('button', { name: 'Add Customer' }).click();

    await submit();
    await fieldError(page, 'ipAddress', 'IP address is required');
    expect(await page.getByRole('combobox', { name: 'IP Address' }).getAttribute('aria-invalid')).to.equal('true');
    await screenshot(page, 'add-customer-errors');

    await page.getByRole('combobox', { name: 'IP Address' }).fill('10.64.0.1'); // the gateway
    await submit();
    await fieldError(page, 'ipAddress', 'IP address is not available');

    await page.getByRole('combobox', { name: 'IP Address' }).fill('10.64.88.9');
    await page.getByLabel('Phone Number', { exact: true }).fill('0612345678');
    await submit();
    await fieldError(page, 'phone', 'Invalid phone number');

    await page.getByLabel('Phone Number', { exact: true }).fill(who.phone);
    await page.getByLabel('Username', { exact: true }).fill(taken.username.toUpperCase());
    await submit();
    await fieldError(page, 'username', 'Username already exists');
    // what was typed is kept, and the fix the help page gives works
    expect(await page.getByLabel('Full Name', { exact: true }).inputValue()).to.equal(who.fullName);
    await page.getByRole('button', { name: 'Generate Username' }).click();
    await valueOf(page.getByLabel('Username', { exact: true }), (v) => v !== taken.username.toUpperCase());
    await addCustomer(page);
    await textOf(page.getByTestId('customer-status'), 'Active');
  });
});
