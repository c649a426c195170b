import { expect } from 'chai';
import type { CustomerView } from '@mtandao/protocol/api';
import { expectStatus } from '../../controller/test/helpers/client.ts';
import { openAction, screenshot, textOf, valueOf } from './helpers/browser.ts';
import { person, run, sessionPerTest } from './helpers/run.ts';
import { eventually } from './helpers/stack.ts';
import { activeCustomer } from './helpers/world.ts';

// What a staff walk-through of Add Customer and the customer page found (issue 7, item 6).
describe('Staff walk-through fixes', function () {
  this.timeout(60_000);

  describe('as staff', () => {
    const s = sessionPerTest('staff');

    it('Escape in the IP search closes the list and keeps the typed address', async () => {
      const { page } = s;
      await page.goto('/customers/new');
      await page.getByRole('radio', { name: /^PPPoE/ }).check();
      await page.getByLabel('Internet Plan', { exact: true }).selectOption(run.stack.world.plans.pppoe.id);
      const ip = page.getByRole('combobox', { name: 'IP Address' });
      await ip.pressSequentially('10.64.91', { delay: 20 });
      const list = page.getByRole('listbox', { name: 'Available IP addresses' });
      await list.waitFor();
      await ip.press('Escape');
      await list.waitFor({ state: 'detached' });
      expect(await ip.inputValue()).to.equal('10.64.91');
      expect(await ip.getAttribute('aria-expanded')).to.equal('false');
    });

    it('"Name, price, speed and validity are required" marks every missing one, not only Name', async () => {
      const { page } = s;
      await page.goto('/plans/new');
      await page.getByLabel('Name', { exact: true }).fill('Half filled');
      await page.getByRole('button', { name: 'Create plan' }).click();
      for (const id of ['price', 'downloadSpeed', 'uploadSpeed', 'validity-count']) {
        await textOf(page.locator(`#${id}-error`), 'Name, price, speed and validity are required');
        expect(await page.locator(`#${id}`).getAttribute('aria-invalid')).to.equal('true', id);
      }
      expect(await page.locator('#name').getAttribute('aria-invalid')).to.equal(null);
      // the summary says it once
      expect(await page.locator('.alert.error li').count()).to.equal(1);
      await screenshot(page, 'plan-new-every-missing');
    });

    it('offers a short numeric additional account number as soon as it is switched on', async () => {
      const { page } = s;
      await page.goto('/customers/new');
      await page.getByRole('radio', { name: /^Hotspot/ }).check();
      await textOf(page.locator('.account-hint'), 'username');
      await page.getByText('Add Additional Account Number').click();
      const account = await valueOf(page.getByLabel('Additional Account Number', { exact: true }));
      expect(account).to.match(/^\d{4,10}$/);
    });

    it('a router refusal shows in the banner at once, in the router’s words', async () => {
      const { api, world, sim } = run.stack;
      const who = person('Refused');
      // someone else's entry already holds the name on the router
      sim.store.add('/ppp/secret', { name: who.username, password: 'x', service: 'pppoe', comment: 'mtandao:999999' });
      const c = expectStatus(
        await api.post<CustomerView>('/customers', {
          connectionType: 'pppoe',
          planId: world.plans.pppoe.id,
          networkId: world.pppoeNetwork.id,
          ipAddress: '10.64.121.9',
          ...who,
          payment: { method: 'cash' },
          autoActivate: true,
        }),
        201,
      );
      const { page } = s;
      const started = Date.now();
      await page.goto(`/customers/${c.id}?added=1`);
      const problem = await textOf(page.getByTestId('router-problem'), 'mtandao:999999', 15_000);
      expect(Date.now() - started).to.be.lessThan(15_000);
      expect(problem).to.contain('belongs to');
      await textOf(page.getByTestId('added'), 'did not take it');
      expect(await page.getByTestId('router-status').textContent()).to.not.contain('updating…');
      await screenshot(page, 'customer-router-refused');
    });

    it('"Customer added" turns to applied once the router has it', async () => {
      const c = await activeCustomer('Applied');
      const { page } = s;
      await page.goto(`/customers/${c.id}?added=1`);
      await textOf(page.getByTestId('added'), 'Customer added. Applied on the router.');
    });

    it('the SMS tab writes numbers the Kenyan way, not 2547…', async () => {
      const c = await activeCustomer('Sms');
      const { page } = s;
      await page.goto(`/customers/${c.id}?tab=sms`);
      await page.getByRole('button', { name: 'Send Payment Details' }).click();
      const to = await textOf(page.getByTestId('sms').locator('strong').first(), /^0\d{3} \d{3} \d{3}$/);
      expect(to).to.not.match(/^254/);
    });

    it('Delete and Extend Expiry are admin-only: staff see them disabled, with the reason', async () => {
      const c = await activeCustomer('Cashier');
      const { page } = s;
      await page.goto(`/customers/${c.id}`);
      const toolbar = page.getByRole('toolbar', { name: 'Customer actions' });
      expect(await toolbar.getByRole('button', { name: 'Delete' }).isDisabled()).to.equal(true);
      expect(await toolbar.getByRole('button', { name: 'Extend Expiry' }).isDisabled()).to.equal(true);
      await textOf(page.getByTestId('admin-only'), 'Extend Expiry and Delete are for admins');
      // a forged post is refused by the controller
      const res = await page.request.post(`/customers/${c.id}?/delete`, {
        form: {},
        headers: { origin: run.stack.url, accept: 'application/json', 'x-sveltekit-action': 'true' },
      });
      expect(await res.json()).to.include({ type: 'failure', status: 403 });
      expectStatus(await run.stack.api.get(`/customers/${c.id}`), 200);
    });
  });

  describe('as admin', () => {
    const s = sessionPerTest('admin');

    it('a plan is archived from its page, and deleting one in use is refused with the reason', async () => {
      const { api, world } = run.stack;
      const plan = expectStatus(
        await api.post<{ id: string }>('/plans', {
          name: `Retired ${Date.now().toString(36)}`,
          connectionType: 'pppoe',
          price: '900',
          downloadSpeed: '4M',
          uploadSpeed: '1M',
          validity: { count: 30, unit: 'days' },
          poolIds: [world.pppoePool.id],
        }),
        201,
      );
      expectStatus(
        await api.post('/customers', {
          connectionType: 'pppoe',
          planId: plan.id,
          networkId: world.pppoeNetwork.id,
          ipAddress: '10.64.122.9',
          ...person('OnOld'),
          payment: { method: 'cash' },
          autoActivate: false,
        }),
        201,
      );
      const { page } = s;
      await page.goto(`/plans/${plan.id}`);
      await openAction(page, 'Delete plan');
      await page.getByRole('button', { name: 'Yes, delete the plan' }).click();
      await textOf(page.getByTestId('plan-refusal'), 'This plan has customers');
      await page.getByRole('button', { name: 'Archive plan' }).click();
      await textOf(page.getByTestId('notice'), 'Archived');
      await textOf(page.getByTestId('plan-archived'), 'Archived');
      await screenshot(page, 'plan-archived');
      const offered = await page.request.get('/lookup/plans?connectionType=pppoe').then((r) => r.json() as Promise<{ items: { id: string }[] }>);
      expect(offered.items.map((p) => p.id)).to.not.include(plan.id);

      const unused = expectStatus(
        await api.post<{ id: string; name: string }>('/plans', {
          name: `Unused ${Date.now().toString(36)}`,
          connectionType: 'pppoe',
          price: '100',
          downloadSpeed: '1M',
          uploadSpeed: '1M',
          validity: { count: 1, unit: 'days' },
          poolIds: [world.pppoePool.id],
        }),
        201,
      );
      await page.goto(`/plans/${unused.id}`);
      await openAction(page, 'Delete plan');
      await Promise.all([page.waitForURL(/\/plans\?deleted=/), page.getByRole('button', { name: 'Yes, delete the plan' }).click()]);
      await textOf(page.getByTestId('plan-deleted'), unused.name);
      expect((await api.get(`/plans/${unused.id}`)).status).to.equal(404);
    });

    it('Extend Expiry asks a reason and says "by 1 hour"', async () => {
      const c = await activeCustomer('Extend');
      const { page } = s;
      await page.goto(`/customers/${c.id}`);
      await openAction(page, 'Extend Expiry');
      await page.locator('#extend-unit').selectOption('hours');
      await page.getByRole('button', { name: 'Extend expiry' }).click();
      await textOf(page.locator('#extend-reason-error'), 'Reason is required');
      await page.locator('#extend-reason').fill('Outage on 1 Dec');
      await page.getByRole('button', { name: 'Extend expiry' }).click();
      await textOf(page.getByTestId('notice'), 'Expiry extended by 1 hour.');
      const after = expectStatus(await run.stack.api.get<CustomerView>(`/customers/${c.id}`), 200);
      expect(Date.parse(after.expiresAt!) - Date.parse(c.expiresAt!)).to.be.closeTo(3_600_000, 120_000);
      await eventually(async () => ((await page.getByTestId('notice').textContent())?.includes('by 1 hours') ? undefined : true), 'no "1 hours"');
    });
  });
});
