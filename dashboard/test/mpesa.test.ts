import { expect } from 'chai';
import type { CustomerView } from '@mtandao/protocol/api';
import { expectStatus } from '../../controller/test/helpers/client.ts';
import { holdScripts, openAction, screenshot, textOf } from './helpers/browser.ts';
import { person, run, sessionPerTest } from './helpers/run.ts';
import { activeCustomer } from './helpers/world.ts';
import { eventually } from './helpers/stack.ts';

const SHORTCODE = '600984';
const secretOf = (username: string) => run.stack.sim.store.list('/ppp/secret').find((s) => s.name === username);

/** M-Pesa as an admin sets it up (idempotent: any test may run first). */
async function mpesaReady(): Promise<void> {
  const { api } = run.stack;
  const view = expectStatus(await api.get<{ shortcode: string | null; lastRegistration: { ok: boolean } | null }>('/settings/mpesa'), 200);
  if (view.shortcode === SHORTCODE && view.lastRegistration?.ok) return;
  expectStatus(await api.patch('/settings/mpesa', { shortcode: SHORTCODE, consumerKey: 'key-1', consumerSecret: 'secret-1', passkey: 'passkey-1' }), 200);
  expect(expectStatus(await api.post<{ ok: boolean }>('/settings/mpesa/register-urls'), 200).ok).to.equal(true);
}

describe('M-Pesa in the dashboard', function () {
  this.timeout(90_000);

  describe('as a cashier', () => {
    const s = sessionPerTest('staff');
    before(mpesaReady);

    it('a paybill payment through the Daraja fake takes an expired customer to Active and enables the router entry', async () => {
      const c = await activeCustomer('Mpesa');
      const { controller } = run.stack;
      await controller.services.db.exec(`UPDATE customers SET expires_at = now() - interval '1 minute' WHERE id = $1`, [c.id]);
      await controller.services.expiry.sweep();
      await eventually(async () => (secretOf(c.username)?.disabled === 'true' ? true : undefined), 'the secret disabled');
      const { page } = s;
      await page.goto(`/customers/${c.id}`);
      await textOf(page.getByTestId('customer-status'), 'Expired');
      await screenshot(page, 'mpesa-before-payment');

      const paid = await run.stack.daraja.payBill({ shortCode: SHORTCODE, account: c.accountNumber, amount: '1500.00' });
      expect(paid.confirmation).to.deep.include({ status: 200 });
      await page.reload();
      await textOf(page.getByTestId('customer-status'), 'Active');
      await eventually(async () => (secretOf(c.username)?.disabled === 'false' ? true : undefined), 'the secret enabled again', 20_000);
      await page.goto(`/customers/${c.id}?tab=transactions`);
      await textOf(page.locator('main'), paid.transId);
      await screenshot(page, 'mpesa-after-payment');
    });

    it('an M-Pesa prompt the customer pays goes from pending to paid', async () => {
      const c = await activeCustomer('Stk');
      const { page } = s;
      await page.goto(`/customers/${c.id}`);
      await openAction(page, 'M-Pesa prompt');
      const panel = page.getByRole('group', { name: 'Send an M-Pesa prompt (STK push)' });
      await panel.getByLabel('Amount', { exact: true }).fill('1500');
      await panel.getByRole('button', { name: 'Send prompt' }).click();
      const status = page.getByTestId('stk-status');
      await textOf(status, 'Waiting for the customer');
      await screenshot(page, 'mpesa-prompt-pending');
      await textOf(status, /Paid — receipt [A-Z0-9]{10}/, 20_000);
      await screenshot(page, 'mpesa-prompt-paid');
    });

    it('an M-Pesa prompt opened before the page finished loading stays open (the page’s scripts do not close it)', async () => {
      const c = await activeCustomer('Early');
      const { page } = s;
      const scripts = await holdScripts(page);
      await page.goto(`/customers/${c.id}`, { waitUntil: 'commit' });
      await openAction(page, 'M-Pesa prompt');
      const panel = page.getByRole('group', { name: 'Send an M-Pesa prompt (STK push)' });
      await panel.getByLabel('Amount', { exact: true }).fill('1500');
      await scripts.hydrated();
      expect(await panel.getByRole('button', { name: 'Send prompt' }).isVisible()).to.equal(true);
      expect(await panel.getByLabel('Amount', { exact: true }).inputValue()).to.equal('1500');
    });

    it('an M-Pesa prompt the customer cancels (1032) ends cancelled with M-Pesa’s reason', async () => {
      const { api, world } = run.stack;
      const p = person('Cancel');
      const c = expectStatus(
        await api.post<CustomerView>('/customers', {
          connectionType: 'pppoe',
          planId: world.plans.pppoe.id,
          networkId: world.pppoeNetwork.id,
          ipAddress: '10.64.121.7',
          ...p,
          phone: '0712341032',
          payment: { method: 'cash' },
          autoActivate: true,
        }),
        201,
      );
      const { page } = s;
      await page.goto(`/customers/${c.id}`);
      await openAction(page, 'M-Pesa prompt');
      await page.getByRole('group', { name: 'Send an M-Pesa prompt (STK push)' }).getByRole('button', { name: 'Send prompt' }).click();
      await textOf(page.getByTestId('stk-status'), 'Cancelled by the customer — M-Pesa says: “Request cancelled by user” (1032)', 20_000);
      await screenshot(page, 'mpesa-prompt-cancelled');
    });

    it('Unmatched M-Pesa: a payment to an unknown account is assigned to the customer who paid', async () => {
      const c = await activeCustomer('Unmatched');
      const paid = await run.stack.daraja.payBill({ shortCode: SHORTCODE, account: 'WRONG-ACC', amount: '1500.00' });
      const { page } = s;
      await page.goto('/mpesa/unmatched');
      const row = page.locator(`tr[data-trans-id="${paid.transId}"]`);
      await textOf(row, 'WRONG-ACC');
      await row.getByRole('textbox').fill(c.accountNumber);
      await row.getByRole('button', { name: 'Assign' }).click();
      await textOf(page.getByTestId('notice'), `${paid.transId} (1500.00) assigned to ${c.fullName}.`);
      expect(await page.locator(`tr[data-trans-id="${paid.transId}"]`).count()).to.equal(0);
    });
  });

  describe('as an admin', () => {
    const s = sessionPerTest('admin');
    it('Settings → M-Pesa: write-only secrets, the callback URLs, Register URLs with Daraja’s answer', async () => {
      const { page } = s;
      await page.goto('/settings/mpesa');
      await page.getByLabel('Paybill number').fill(SHORTCODE);
      await page.locator('input[name=consumerKey]').fill('key-1');
      await page.locator('input[name=consumerSecret]').fill('secret-1');
      await page.locator('input[name=passkey]').fill('passkey-1');
      await page.getByRole('button', { name: 'Save M-Pesa settings' }).click();
      await textOf(page.getByTestId('notice'), 'M-Pesa settings saved.');
      expect(await page.locator('input[name=consumerSecret]').inputValue()).to.equal('');
      const urls = await page.getByTestId('callback-url').allTextContents();
      expect(urls.map((u) => u.replace(/\/[\w-]+$/, ''))).to.deep.equal([
        `${run.stack.controller.url}/api/v1/callbacks/c2b/validation`,
        `${run.stack.controller.url}/api/v1/callbacks/c2b/confirmation`,
        `${run.stack.controller.url}/api/v1/callbacks/stk/callback`,
      ]);
      await page.getByRole('button', { name: 'Register URLs' }).click();
      await textOf(page.getByTestId('notice'), 'Registered with M-Pesa: Success');
      expect(run.stack.daraja.registrations.get(SHORTCODE)?.ConfirmationURL).to.equal(urls[1]);
      await screenshot(page, 'mpesa-settings');
    });
  });
});
