import { expect } from 'chai';
import type { CustomerView, LedgerEntryView } from '@mtandao/protocol/api';
import { expectStatus } from '../../controller/test/helpers/client.ts';
import { holdScripts, openAction, screenshot, textOf } from './helpers/browser.ts';
import { person, run, sessionPerTest } from './helpers/run.ts';
import { eventually } from './helpers/stack.ts';
import { activeCustomer } from './helpers/world.ts';

/** An inactive PPPoE customer (Auto Activate No: no charge, no payment, nothing on the router). */
async function inactiveCustomer(stem: string): Promise<CustomerView> {
  const { api, world } = run.stack;
  return expectStatus(
    await api.post<CustomerView>('/customers', {
      connectionType: 'pppoe',
      planId: world.plans.pppoe.id,
      ...person(stem),
      payment: { method: 'cash' },
      autoActivate: false,
      networkId: world.pppoeNetwork.id,
      ipAddress: `10.64.130.${Math.floor(Math.random() * 200) + 10}`,
    }),
    201,
  );
}

const pay = async (customerId: string, amount: string, method: string, reference?: string) =>
  expectStatus(await run.stack.api.post<{ payment: LedgerEntryView }>(`/customers/${customerId}/payments`, { amount, method, reference }), 201).payment;

// The customer's account on the detail page (issue 7, items 2 and 4).
describe('Money: the customer account, receipts and the Payments page', function () {
  this.timeout(60_000);

  describe('as staff', () => {
    const s = sessionPerTest('staff');

    it('Add Payment previews what the payment buys, then records it with a printable receipt', async () => {
      const c = await activeCustomer('Payer');
      const { page } = s;
      await page.goto(`/customers/${c.id}`);
      await openAction(page, 'Add Payment');
      const amount = page.locator('#pay-amount');
      await amount.fill('3000');
      const preview = await textOf(page.getByTestId('payment-preview'), 'Renews 2 periods');
      expect(preview).to.contain('Expires').and.contain('Active');
      await amount.fill('1500');
      await textOf(page.getByTestId('payment-preview'), 'Renews 1 period');
      await page.locator('#pay-method').selectOption('mpesa');
      await page.locator('#pay-reference').fill('QKX9PREV01');
      await screenshot(page, 'customer-payment-preview', { fullPage: false });
      await page.getByRole('button', { name: /^Record payment/ }).click();
      const notice = await textOf(page.getByTestId('notice'), 'Payment of KES 1,500.00 recorded.');
      const receiptNumber = /Receipt (\S+)\./.exec(notice)?.[1];
      expect(receiptNumber).to.be.a('string');
      const after = expectStatus(await run.stack.api.get<CustomerView>(`/customers/${c.id}`), 200);
      expect(Date.parse(after.expiresAt!)).to.be.greaterThan(Date.parse(c.expiresAt!) + 29 * 86_400_000);

      await Promise.all([page.waitForURL(/\/receipts\/\d+$/), page.getByTestId('notice-receipt').click()]);
      await textOf(page.getByTestId('receipt-number'), receiptNumber!);
      await textOf(page.getByTestId('receipt-amount'), 'KES 1,500.00');
      expect(await page.getByTestId('receipt').textContent())
        .to.contain('QKX9PREV01')
        .and.contain('M-Pesa')
        .and.contain(c.username);
      expect(await page.locator('.sidebar').count()).to.equal(0);
      await screenshot(page, 'receipt');
      await page.emulateMedia({ media: 'print' });
      expect(await page.getByRole('button', { name: 'Print' }).isVisible()).to.equal(false);
      await screenshot(page, 'receipt-print');
    });

    it('an amount typed before the page finished loading is kept, and previewed', async () => {
      const c = await activeCustomer('Early');
      const { page } = s;
      const scripts = await holdScripts(page);
      await page.goto(`/customers/${c.id}`, { waitUntil: 'commit' });
      await openAction(page, 'Add Payment');
      await page.locator('#pay-amount').fill('500');
      await scripts.hydrated();
      expect(await page.locator('#pay-amount').inputValue()).to.equal('500');
      await textOf(page.getByTestId('payment-preview'), 'Short of the price');
    });

    it('a partial payment stays as credit: nothing renewed, the balance shows it', async () => {
      const c = await activeCustomer('Partial');
      const { page } = s;
      await page.goto(`/customers/${c.id}`);
      await openAction(page, 'Add Payment');
      await page.locator('#pay-amount').fill('500');
      const preview = await textOf(page.getByTestId('payment-preview'), 'Short of the price');
      expect(preview)
        .to.match(/1,?000\.00/)
        .and.contain('Nothing');
      await page.getByRole('button', { name: /^Record payment/ }).click();
      await textOf(page.getByTestId('notice'), 'Payment of KES 500.00 recorded.');
      await textOf(page.getByTestId('balance'), 'KES 500.00');
      expect(await page.locator('.facts dt', { hasText: 'Credit' }).count()).to.equal(1);
      await textOf(page.getByTestId('due-now'), 'KES 1,000.00');
      const after = expectStatus(await run.stack.api.get<CustomerView>(`/customers/${c.id}`), 200);
      expect(after.expiresAt).to.equal(c.expiresAt);

      await page.getByRole('link', { name: 'Transactions' }).click();
      const rows = page.getByTestId('ledger-entry');
      await eventually(async () => ((await rows.count()) >= 2 ? true : undefined), 'the ledger entries');
      const top = (await rows.first().textContent()) ?? '';
      expect(top).to.contain('Payment').and.contain('KES 500.00');
      expect(await rows.first().locator('td[data-label="Balance after"]').textContent()).to.contain('KES 500.00');
      expect(await rows.first().getByTestId('receipt-link').count()).to.equal(1);
      await screenshot(page, 'customer-ledger');
    });

    it('Activate without cover offers "activate on credit", which leaves a debt', async () => {
      const c = await inactiveCustomer('Credit');
      const { page } = s;
      await page.goto(`/customers/${c.id}`);
      await openAction(page, 'Activate');
      await textOf(page.getByTestId('not-covered'), 'does not cover the plan price');
      await screenshot(page, 'customer-activate-on-credit', { fullPage: false });
      await page.getByRole('button', { name: 'Activate on credit' }).click();
      await textOf(page.getByTestId('customer-status'), 'Active');
      await textOf(page.getByTestId('notice'), 'Activated on credit');
      await textOf(page.getByTestId('balance'), 'KES 1,500.00');
      expect(await page.locator('.facts dt', { hasText: 'Debt' }).count()).to.equal(1);
      expect(await page.getByTestId('balance').evaluate((el) => getComputedStyle(el).color)).to.equal('rgb(180, 35, 24)');
    });

    it('Change Plan from the next renewal keeps the plan until then', async () => {
      const c = await activeCustomer('Later');
      const { api, world } = run.stack;
      const other = expectStatus(await api.get<{ items: { id: string; name: string }[] }>('/plans?connectionType=pppoe'), 200).items.find(
        (p) => p.id !== world.plans.pppoe.id,
      );
      if (!other)
        expectStatus(
          await api.post('/plans', {
            name: 'Home 15 Mbps',
            connectionType: 'pppoe',
            price: '2000',
            downloadSpeed: '15M',
            uploadSpeed: '5M',
            validity: { count: 30, unit: 'days' },
            poolIds: [world.pppoePool.id],
          }),
          201,
        );
      const { page } = s;
      await page.goto(`/customers/${c.id}`);
      await openAction(page, 'Change Plan');
      const select = page.locator('#plan-planId');
      const target = (await select.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))).find(Boolean)!;
      await select.selectOption(target);
      await textOf(page.getByTestId('keeps-address'), c.ipAddress!);
      await page.getByRole('radio', { name: /From the next renewal/ }).check();
      await page.getByRole('button', { name: 'Change plan' }).click();
      await textOf(page.getByTestId('notice'), 'at the next renewal');
      await textOf(page.getByTestId('next-plan'), 'at renewal');
      expect(expectStatus(await api.get<CustomerView>(`/customers/${c.id}`), 200).planId).to.equal(c.planId);
    });
  });

  describe('as admin', () => {
    const s = sessionPerTest('admin');

    it('the Payments page filters by method and customer, totals by method, and exports CSV', async () => {
      const c = await activeCustomer('Ledger');
      const mpesa = await pay(c.id, '1500', 'mpesa', 'QPAY000001');
      await pay(c.id, '700', 'cash');
      await pay(c.id, '250.50', 'bank', 'EQB-77');
      const { page } = s;
      await page.goto('/payments');
      await page.getByRole('link', { name: 'Payments' }).first().waitFor();
      await page.locator('#customer').fill(c.username);
      await page.getByRole('button', { name: 'Show' }).click();
      await page.waitForURL(/customer=/);
      // the registration's payment is there too: 1500 + 1500 + 700 + 250.50
      await textOf(page.getByTestId('total-amount'), 'KES 3,950.50');
      await textOf(page.getByTestId('total-mpesa'), 'KES 1,500.00');
      await textOf(page.getByTestId('total-cash'), 'KES 2,200.00');
      await textOf(page.getByTestId('total-bank'), 'KES 250.50');
      expect(await page.getByTestId('payment-row').count()).to.equal(4);
      await screenshot(page, 'payments');

      await page.locator('#method').selectOption('mpesa');
      await page.getByRole('button', { name: 'Show' }).click();
      await page.waitForURL(/method=mpesa/);
      await textOf(page.getByTestId('total-amount'), 'KES 1,500.00');
      expect(await page.getByTestId('payment-row').count()).to.equal(1);
      expect(await page.getByTestId('payment-row').textContent())
        .to.contain(mpesa.receiptNumber!)
        .and.contain('QPAY000001');

      const href = await page.getByTestId('export-csv').getAttribute('href');
      const csv = await page.request.get(href!);
      expect(csv.status()).to.equal(200);
      expect(csv.headers()['content-type']).to.contain('text/csv');
      expect(csv.headers()['content-disposition']).to.contain('attachment');
      const body = await csv.text();
      expect(body).to.contain('QPAY000001');
      expect(body).to.not.contain('EQB-77');

      // the date range: nothing in a range that ended yesterday
      await page.goto('/payments?from=2020-01-01&to=2020-01-31');
      await textOf(page.getByTestId('total-amount'), 'KES 0.00');
      await textOf(page.locator('.empty'), 'No payments');
    });

    it('an admin reverses a payment with a reason; the ledger and the receipt show it', async () => {
      const c = await activeCustomer('Reverse');
      const p = await pay(c.id, '1500', 'cash');
      const { page } = s;
      await page.goto(`/customers/${c.id}?tab=transactions`);
      const row = page.getByTestId('ledger-entry').filter({ hasText: p.receiptNumber! });
      await row.getByRole('link', { name: 'Reverse' }).click();
      const form = page.getByTestId('reverse-form');
      await textOf(form, p.receiptNumber!);
      await form.getByRole('button', { name: 'Reverse entry' }).click();
      await textOf(page.locator('#reverse-reason-error'), 'Reason is required');
      await page.locator('#reverse-reason').fill('Recorded twice');
      await screenshot(page, 'customer-ledger-reverse-form');
      await page.locator('#reverse-reason').press('Enter');
      await textOf(page.getByTestId('notice'), 'Reversed');
      await textOf(page.getByTestId('ledger-entry').first(), 'Reversal of a payment');
      await textOf(page.getByTestId('ledger-entry').filter({ hasText: p.receiptNumber! }).last(), 'Reversed');
      await screenshot(page, 'customer-ledger-reversed');
      await page.goto(`/customers/${c.id}/receipts/${p.id}`);
      await textOf(page.getByTestId('receipt-reversed'), 'Reversed');
    });
  });
});
