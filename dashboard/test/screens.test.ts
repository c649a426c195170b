import { expect } from 'chai';
import type { CustomerView, JobView, PlanView } from '@mtandao/protocol/api';
import { expectStatus } from '../../controller/test/helpers/client.ts';
import { PHONE, screenshot, signIn, textOf } from './helpers/browser.ts';
import { person, run, sessionPerTest } from './helpers/run.ts';
import { eventually } from './helpers/stack.ts';
import { activeCustomer } from './helpers/world.ts';

describe('Customers, plans, network, sites, provisioning log and settings', function () {
  this.timeout(60_000);
  const s = sessionPerTest('admin');

  it('Customers: search by name, username and IP, filter by status, page through', async () => {
    const { api, world } = run.stack;
    const stem = `Zawadi${Date.now().toString(36).slice(-3)}`;
    // enough inactive customers for a second page (Auto Activate No: nothing for the router)
    for (let i = 0; i < 26; i++) {
      expectStatus(
        await api.post('/customers', {
          connectionType: 'pppoe',
          planId: world.plans.pppoe.id,
          ipAddress: `10.64.200.${i + 10}`,
          ...person(stem),
          payment: { method: 'cash' },
          autoActivate: false,
        }),
        201,
      );
    }
    const active = await activeCustomer('Sifa');
    const { page } = s;
    await page.goto('/customers');
    await screenshot(page, 'customers-list');
    const rows = page.locator('tbody tr');

    await page.getByLabel('Search').fill(stem);
    await page.getByRole('button', { name: 'Apply' }).click();
    await textOf(page.locator('.pager'), '1–25 of 26 customers');
    await Promise.all([page.waitForURL(/page=2/), page.getByRole('link', { name: 'Next' }).click()]);
    expect(await rows.count()).to.equal(1);

    await page.goto(`/customers?search=${encodeURIComponent(active.ipAddress!)}`);
    expect(await textOf(rows, active.username)).to.contain(active.fullName);
    await page.goto(`/customers?search=${active.username}`);
    expect(await rows.count()).to.equal(1);
    await page.goto(`/customers?search=${stem}&status=active`);
    await textOf(page.locator('.empty'), 'No customers match');
    await page.goto(`/customers?search=${stem}&status=inactive`);
    await textOf(page.locator('.pager'), 'of 26 customers');
    expect((await rows.allTextContents()).every((t) => t.includes('Inactive'))).to.equal(true);
  });

  it('Internet Plans: lists plans with their prices and edits one', async () => {
    const { api, world } = run.stack;
    const plan = expectStatus(
      await api.post<PlanView>('/plans', {
        name: 'Night 50 Mbps',
        connectionType: 'pppoe',
        price: '999',
        downloadSpeed: '50M',
        uploadSpeed: '20M',
        validity: { count: 7, unit: 'days' },
        poolIds: [world.pppoePool.id],
      }),
      201,
    );
    const { page } = s;
    await page.goto('/plans');
    await textOf(page.locator('tbody'), 'KES 999.00');
    await screenshot(page, 'plans-list');
    await page.getByRole('link', { name: 'Night 50 Mbps' }).click();
    await page.getByLabel(/^Price/).fill('1,250');
    await page.getByLabel('Download speed').fill('');
    await page.getByRole('button', { name: 'Save plan' }).click();
    await textOf(page.locator('#downloadSpeed-error'), 'Name, price, speed and validity are required');
    expect(await page.locator('#name').getAttribute('aria-invalid')).to.equal(null);
    await screenshot(page, 'plan-edit-error');
    await page.getByLabel('Download speed').fill('60M');
    await Promise.all([page.waitForURL(/\/plans\?saved=/), page.getByRole('button', { name: 'Save plan' }).click()]);
    await textOf(page.getByRole('status'), 'Plan “Night 50 Mbps” saved.');
    expect(expectStatus(await api.get<PlanView>(`/plans/${plan.id}`), 200)).to.include({ price: '1250.00', downloadSpeed: '60M' });
  });

  it('Network: pools with utilisation and free counts; adding one, refused then accepted', async () => {
    const { page } = s;
    await page.goto('/network');
    const pools = page.getByTestId('pool');
    await textOf(pools.first(), '10.64.0.0/16');
    expect(await page.locator('[role=meter]').count()).to.be.greaterThan(2);
    await page.getByLabel('Name', { exact: true }).fill('Overlapping');
    await page.getByLabel('Network blocks').fill('10.64.5.0/24');
    await page.getByRole('button', { name: 'Add pool' }).click();
    const error = await textOf(page.locator('#networks-error'), (t) => t.length > 0);
    expect(error.toLowerCase()).to.contain('overlap');
    await page.getByLabel('Name', { exact: true }).fill('Wireless west');
    await page.getByLabel('Network blocks').fill('10.70.0.0/24\n10.70.1.0/24');
    await page.getByLabel(/^Gateway/).fill('10.70.0.1');
    await Promise.all([page.waitForURL(/\/network\?saved=/), page.getByRole('button', { name: 'Add pool' }).click()]);
    await textOf(page.getByRole('status'), 'Pool “Wireless west” saved.');
    const added = pools.filter({ hasText: 'Wireless west' });
    expect(await added.locator('tbody tr').count()).to.equal(2);
    await textOf(added, '253');
    await textOf(added, '254');
    await screenshot(page, 'network');
  });

  it('Sites & Routers: agent and router health, a new site and router, an enrolment command, a reconcile', async () => {
    const { page } = s;
    const { world } = run.stack;
    await page.goto('/sites');
    const site = page.getByTestId('site').filter({ hasText: world.site.name });
    await textOf(site.getByTestId('agent-status'), 'Online');
    const router = page.getByTestId('router').filter({ hasText: world.router.name });
    await textOf(router, 'Reachable');
    await textOf(router, '7.18.2');

    await page.locator('#site-name').fill('Rongai POP');
    await page.getByRole('button', { name: 'Add site' }).click();
    await textOf(page.getByRole('status'), 'Site “Rongai POP” added');
    await page.locator('#router-siteId').selectOption({ label: 'Rongai POP' });
    await page.locator('#router-name').fill('rongai-edge');
    await page.getByRole('button', { name: 'Add router' }).click();
    await textOf(page.getByRole('status'), 'Router “rongai-edge” added');

    const rongai = page.getByTestId('site').filter({ hasText: 'Rongai POP' });
    await textOf(rongai, 'Not enrolled');
    await rongai.getByRole('button', { name: 'Enrol agent' }).click();
    const command = await textOf(page.getByTestId('enrol-manual').locator('code'), 'mtandao-agent enroll');
    expect(command).to.match(/--token \S+/);
    await screenshot(page, 'sites-routers');

    await router.getByRole('button', { name: 'Reconcile' }).click();
    const notice = await textOf(page.getByRole('status'), /Reconcile of kasarani-core queued \(job #\d+\)/);
    const jobId = /#(\d+)/.exec(notice)![1]!;
    await eventually(
      async () => (expectStatus(await run.stack.api.get<JobView>(`/provisioning/jobs/${jobId}`), 200).status === 'applied' ? true : undefined),
      'the reconcile applied',
      20_000,
    );
  });

  it('Provisioning Log: filters, a live tail, and a job with the router’s replies', async () => {
    const { page } = s;
    const first = await activeCustomer('Tumaini');
    await page.goto(`/provisioning?customer=${first.username}`);
    const rows = page.getByTestId('job-row');
    await textOf(rows.first(), 'Applied');
    expect((await rows.allTextContents()).every((t) => t.includes(first.username))).to.equal(true);

    await page.goto('/provisioning');
    await textOf(rows.first(), '#');
    // a customer added elsewhere appears on top, and turns applied, without a reload
    const { api, world } = run.stack;
    const who = person('Upendo');
    const c = expectStatus(
      await api.post<CustomerView>('/customers', {
        connectionType: 'pppoe',
        planId: world.plans.pppoe.id,
        ipAddress: '10.64.130.7',
        ...who,
        payment: { method: 'cash' },
        autoActivate: true,
      }),
      201,
    );
    const row = rows.filter({ hasText: c.username });
    await textOf(row, 'Applied', 20_000);
    await screenshot(page, 'provisioning-log');

    await page.goto(`/provisioning?status=applied&customer=${c.username}`);
    await rows.first().getByRole('link', { name: /^#\d+/ }).click();
    await page.waitForURL(/\/provisioning\/\d+/);
    await textOf(page.getByTestId('job-status'), 'Applied');
    expect(await page.locator('.events li').count()).to.be.greaterThan(1);
    await screenshot(page, 'provisioning-job');
  });

  it('Settings: an admin edits them (a bad paybill refused at its field); staff read them', async () => {
    const { page } = s;
    await page.goto('/settings');
    await page.getByLabel('M-Pesa paybill number').fill('12');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await textOf(page.locator('#paybillNumber-error'), 'Paybill number must be 5–7 digits');
    await page.getByLabel('M-Pesa paybill number').fill('522533');
    await page.getByLabel('Company name').fill('Kasarani Net');
    await page.getByRole('radio', { name: /Africa’s Talking/ }).check();
    await page.locator('#africastalking-username').fill('kasarani');
    await page.locator('#africastalking-senderId').fill('KASNET');
    await page.getByRole('radio', { name: /Log only/ }).check();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await textOf(page.getByRole('status'), 'Settings saved.');
    await screenshot(page, 'settings');

    const staff = await signIn(run.browser, run.stack, 'staff');
    await staff.page.goto('/settings');
    await textOf(staff.page.locator('dl.details'), '522533');
    expect(await staff.page.locator('main form').count()).to.equal(0);
    await textOf(staff.page.locator('.sidebar'), 'Kasarani Net');
    await staff.context.close();
  });

  it('reads at phone width: the sidebar collapses behind a Menu button', async () => {
    const c = await activeCustomer('Wairimu');
    const phone = await signIn(run.browser, run.stack, 'staff', { viewport: PHONE });
    const { page } = phone;
    await page.goto('/customers');
    const nav = page.getByRole('navigation', { name: 'Main' });
    expect(await nav.isVisible()).to.equal(false);
    await screenshot(page, 'phone-customers', { fullPage: false });
    await page.getByRole('button', { name: 'Menu' }).click();
    expect(await nav.isVisible()).to.equal(true);
    await screenshot(page, 'phone-menu', { fullPage: false });
    await nav.getByRole('link', { name: 'Add Customer' }).click();
    await page.waitForURL(/\/customers\/new/);
    expect(await nav.isVisible()).to.equal(false);
    await page.getByRole('radio', { name: /^PPPoE/ }).check();
    await page.getByLabel('Internet Plan', { exact: true }).selectOption(run.stack.world.plans.pppoe.id);
    await page.getByRole('combobox', { name: 'IP Address' }).pressSequentially('10.64.9', { delay: 20 });
    await page.getByRole('listbox').waitFor();
    await screenshot(page, 'phone-add-customer');
    await page.goto(`/customers/${c.id}`);
    await page.locator('summary', { hasText: /^Add Payment$/ }).click();
    await screenshot(page, 'phone-customer-detail');
    // nothing wider than the screen
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).to.be.at.most(0);
    await phone.context.close();
  });
});
