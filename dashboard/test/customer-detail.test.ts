import { expect } from 'chai';
import type { CustomerView, PlanView } from '@mtandao/protocol/api';
import { expectStatus } from '../../controller/test/helpers/client.ts';
import { holdScripts, openAction, screenshot, textOf } from './helpers/browser.ts';
import { run, sessionPerTest } from './helpers/run.ts';
import { activeCustomer } from './helpers/world.ts';
import { eventually } from './helpers/stack.ts';

const secretOf = (username: string) => run.stack.sim.store.list('/ppp/secret').find((s) => s.name === username);

describe('Customer detail page', function () {
  this.timeout(60_000);
  const s = sessionPerTest('staff');

  it('shows the actions of an Active customer, as the help page has them', async () => {
    const c = await activeCustomer('Faith');
    await s.page.goto(`/customers/${c.id}`);
    await textOf(s.page.getByTestId('customer-status'), 'Active');
    const toolbar = s.page.getByRole('toolbar', { name: 'Customer actions' });
    const labels = (await toolbar.locator('summary, button[type=submit]:visible').allTextContents()).map((t) => t.trim());
    expect(labels).to.deep.equal(['Add Payment', 'Add Debt', 'Change Plan', 'M-Pesa prompt', 'Send Payment Details', 'Disconnect', 'Suspend']);
    // admin-only for staff: shown, disabled, with the reason
    const disabled = (await toolbar.locator(':scope > button:disabled').allTextContents()).map((t) => t.trim());
    expect(disabled).to.deep.equal(['Extend Expiry', 'Delete']);
  });

  it('Suspend (confirmed) and Unsuspend reach the emulated router', async () => {
    const c = await activeCustomer('Gitau');
    const { page } = s;
    await page.goto(`/customers/${c.id}`);
    expect(secretOf(c.username)).to.include({ disabled: 'false' });
    await openAction(page, 'Suspend');
    await screenshot(page, 'customer-suspend-confirm');
    await page.getByRole('button', { name: 'Yes, suspend' }).click();
    await textOf(page.getByTestId('customer-status'), 'Suspended');
    await textOf(page.getByTestId('latest-job-status'), 'Applied', 20_000);
    await eventually(async () => (secretOf(c.username)?.disabled === 'true' ? true : undefined), 'the secret disabled');
    await screenshot(page, 'customer-suspended');

    expect(await page.locator('summary', { hasText: /^Suspend$/ }).count()).to.equal(0);
    await page.getByRole('button', { name: 'Unsuspend' }).click();
    await textOf(page.getByTestId('customer-status'), 'Active');
    await textOf(page.getByTestId('latest-job-status'), 'Applied', 20_000);
    await eventually(async () => (secretOf(c.username)?.disabled === 'false' ? true : undefined), 'the secret enabled again');
  });

  it('Send Payment Details: the SMS appears in the SMS sent tab', async () => {
    const c = await activeCustomer('Halima');
    const { page } = s;
    await page.goto(`/customers/${c.id}?tab=sms`);
    await textOf(page.locator('.empty'), 'No SMS sent yet');
    await page.getByRole('button', { name: 'Send Payment Details' }).click();
    await textOf(page.getByTestId('notice'), 'Payment details sent by SMS');
    const sms = await textOf(page.getByTestId('sms'), c.accountNumber);
    expect(sms).to.match(/07\d\d \d{3} \d{3}/);
    await screenshot(page, 'customer-sms');
  });

  it('Add Payment and Add Debt show in Transactions as KES amounts', async () => {
    const c = await activeCustomer('Imani');
    const { page } = s;
    await page.goto(`/customers/${c.id}?tab=transactions`);
    await openAction(page, 'Add Payment');
    await page.locator('#pay-amount').fill('1500');
    await page.locator('#pay-method').selectOption('mpesa');
    await page.locator('#pay-reference').fill('QKX1234ABC');
    await page.getByRole('button', { name: 'Record payment' }).click();
    await textOf(page.getByTestId('notice'), 'Payment of KES 1,500.00 recorded.');
    await openAction(page, 'Add Debt');
    await page.locator('#debt-amount').fill('abc');
    await page.getByRole('button', { name: 'Record debt' }).click();
    await textOf(page.locator('#debt-amount-error'), 'Amount must be an amount like 1500.00');
    await page.locator('#debt-amount').fill('250.5');
    await page.getByRole('button', { name: 'Record debt' }).click();
    await textOf(page.getByTestId('notice'), 'Debt of KES 250.50 recorded');
    const rows = page.getByTestId('ledger-entry');
    // registration: payment + first period; Add Payment: payment + the period it renewed; the debt
    await eventually(async () => ((await rows.count()) === 5 ? true : undefined), 'five account entries');
    const text = (await rows.allTextContents()).join(' | ');
    expect(text).to.contain('KES 1,500.00').and.contain('M-Pesa').and.contain('QKX1234ABC').and.contain('KES 250.50').and.contain('Debt');
    await screenshot(page, 'customer-transactions');
  });

  it('the Provisioning tab shows each job with the router’s replies', async () => {
    const c = await activeCustomer('Juma');
    const { page } = s;
    await page.goto(`/customers/${c.id}?tab=provisioning`);
    const job = page.getByTestId('job').first();
    await textOf(job.getByTestId('job-status'), 'Applied');
    expect(await job.locator('.events li').count()).to.be.greaterThan(1);
    expect(await job.textContent())
      .to.contain('customer.apply')
      .and.contain(run.stack.world.router.name);
    await screenshot(page, 'customer-provisioning');
  });

  it('reveals the password on request and edits personal details', async () => {
    const c = await activeCustomer('Kamau');
    const { page } = s;
    await page.goto(`/customers/${c.id}`);
    expect(await page.getByTestId('password').textContent()).to.equal('••••••••');
    await page.getByRole('button', { name: 'Reveal' }).click();
    await textOf(page.getByTestId('password'), 'secret-pw-1');

    await page.getByText('Edit details').click();
    await page.locator('#edit-email').fill('kamau@example.co.ke');
    await page.locator('#edit-phone').fill('0799 000 111');
    await page.getByRole('button', { name: 'Save details' }).click();
    await textOf(page.getByTestId('notice'), 'Details saved.');
    await textOf(page.locator('dl.details'), 'kamau@example.co.ke');
    await textOf(page.locator('dl.details'), '+254 799 000 111');
  });

  it('an Edit details panel opened before the page finished loading stays open with what was typed', async () => {
    const c = await activeCustomer('Wanjiru');
    const { page } = s;
    const scripts = await holdScripts(page);
    await page.goto(`/customers/${c.id}`, { waitUntil: 'commit' });
    await page.getByText('Edit details').click();
    await page.locator('#edit-email').fill('early@example.co.ke');
    await scripts.hydrated();
    expect(await page.locator('#edit-email').isVisible()).to.equal(true);
    expect(await page.locator('#edit-email').inputValue()).to.equal('early@example.co.ke');
  });

  describe('as admin', () => {
    const admin = sessionPerTest('admin');

    it('Extend Expiry and Change Plan', async () => {
      const c = await activeCustomer('Lilian');
      const { page } = admin;
      await page.goto(`/customers/${c.id}`);
      await openAction(page, 'Extend Expiry');
      await page.locator('#extend-count').fill('7');
      await page.locator('#extend-reason').fill('Router replaced at the customer’s');
      await page.getByRole('button', { name: 'Extend expiry' }).click();
      await textOf(page.getByTestId('notice'), 'Expiry extended by 7 days.');
      const after = expectStatus(await run.stack.api.get<CustomerView>(`/customers/${c.id}`), 200);
      expect(Date.parse(after.expiresAt!) - Date.parse(c.expiresAt!)).to.be.closeTo(7 * 86_400_000, 120_000);

      const { api, world } = run.stack;
      const faster = expectStatus(
        await api.post<PlanView>('/plans', {
          name: 'Home 20 Mbps',
          connectionType: 'pppoe',
          price: '2500',
          downloadSpeed: '20M',
          uploadSpeed: '10M',
          validity: { count: 30, unit: 'days' },
          poolIds: [world.pppoePool.id],
        }),
        201,
      );
      await page.reload();
      await openAction(page, 'Change Plan');
      await page.locator('#plan-planId').selectOption(faster.id);
      await page.getByRole('radio', { name: /^Now/ }).check();
      await page.getByRole('button', { name: 'Change plan' }).click();
      await textOf(page.getByTestId('notice'), 'Moved to Home 20 Mbps.');
      await textOf(page.getByTestId('status-banner'), 'Home 20 Mbps');
      await textOf(page.getByTestId('latest-job-status'), 'Applied', 20_000);
    });

    it('Delete asks first, then removes the customer from the list and the router', async () => {
      const c = await activeCustomer('Mwangi');
      const { page } = admin;
      await page.goto(`/customers/${c.id}`);
      await openAction(page, 'Delete');
      await textOf(page.getByRole('group', { name: /^Delete/ }), 'cannot be undone');
      await Promise.all([page.waitForURL((u) => u.pathname === '/customers'), page.getByRole('button', { name: 'Yes, delete for good' }).click()]);
      expect((await run.stack.api.get(`/customers/${c.id}`)).status).to.equal(404);
      await eventually(async () => (secretOf(c.username) ? undefined : true), 'the secret removed');
    });
  });
});
