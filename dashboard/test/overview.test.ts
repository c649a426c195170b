import { expect } from 'chai';
import type { OverviewView } from '@mtandao/protocol/api';
import { expectStatus } from '../../controller/test/helpers/client.ts';
import type { Session } from './helpers/browser.ts';
import { DESKTOP, screenshot, textOf } from './helpers/browser.ts';
import { run } from './helpers/run.ts';
import { USERS } from './helpers/stack.ts';
import { activeCustomer } from './helpers/world.ts';

describe('Overview (the home page) and reports', function () {
  this.timeout(90_000);
  const s = {} as Session;
  // signing in lands on the overview, whose load reads every figure: allow a loaded machine its time
  beforeEach(async () => {
    const context = await run.browser.newContext({ baseURL: run.stack.url, viewport: DESKTOP, timezoneId: 'Africa/Nairobi' });
    context.setDefaultTimeout(30_000);
    const page = await context.newPage();
    await page.goto('/login');
    await page.getByLabel('Username').fill(USERS.admin.username);
    await page.getByLabel('Password').fill(USERS.admin.password);
    await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.getByRole('button', { name: 'Sign in' }).click()]);
    Object.assign(s, { context, page });
  });
  afterEach(async () => s.context?.close());

  before(async function () {
    this.timeout(90_000);
    const a = await activeCustomer('Overview');
    await activeCustomer('Overview');
    // one customer owes: a debt on the account
    expectStatus(await run.stack.api.post(`/customers/${a.id}/payments`, { kind: 'debt', amount: '750.00', note: 'router replacement' }), 201);
  });

  it('signing in lands on the overview; its figures match the API and each opens the list behind it', async () => {
    const { page } = s;
    expect(new URL(page.url()).pathname).to.equal('/');
    const o = expectStatus(await run.stack.api.get<OverviewView>('/reports/overview'), 200);
    expect(await textOf(page.getByTestId('figure-active'), String(o.customers.active))).to.include(`of ${o.customers.total}`);
    await textOf(page.getByTestId('figure-revenue-today'), o.revenue.today.replace(/\B(?=(\d{3})+(?!\d))/g, ','));
    await textOf(page.getByTestId('figure-owing'), String(o.customers.owing));
    await textOf(page.getByTestId('figure-agents-online'), `${o.agents.online} online`);
    // the charts are drawn by the library (in the browser, under the page's CSP)
    for (const id of ['chart-revenue', 'chart-active', 'chart-pools']) await page.locator(`[data-testid=${id}][data-ready=true]`).waitFor();
    await screenshot(page, 'overview');

    await Promise.all([page.waitForURL(/\/customers\?status=active$/), page.getByTestId('figure-active').click()]);
    await textOf(page.locator('.pager'), `of ${o.customers.active} customers`);
    const statuses = await page.locator('#customer-table tbody td[data-label=Status]').allTextContents();
    expect(statuses.length).to.be.greaterThan(0);
    expect(statuses.every((t) => t.trim() === 'Active')).to.equal(true);

    await page.goBack();
    await Promise.all([page.waitForURL(/\/customers\?owing=true&sort=balance$/), page.getByTestId('figure-owing').click()]);
    const balances = await page.locator('#customer-table tbody td[data-label=Balance]').allTextContents();
    expect(balances).to.have.length(o.customers.owing);
    expect(balances.every((b) => b.trim().startsWith('−'))).to.equal(true);
    expect(await page.getByLabel('Owing only').isChecked()).to.equal(true);
    await screenshot(page, 'customers-owing');
  });

  it('refreshes itself: a new figure appears without reloading', async () => {
    const { page } = s;
    await page.clock.install();
    await page.goto('/');
    const before = Number((await textOf(page.locator('[data-testid=figure-active] strong'), /^\d+$/)).trim());
    await activeCustomer('Refresh');
    await page.clock.runFor(31_000);
    await textOf(page.locator('[data-testid=figure-active] strong'), String(before + 1));
  });

  it('reports: revenue by method with a CSV export, and the cash-up', async () => {
    const { page } = s;
    await page.getByRole('link', { name: 'Reports', exact: true }).first().click();
    await page.waitForURL(/\/reports$/);
    await page.getByLabel('Method').check();
    await Promise.all([page.waitForURL(/groupBy=method/), page.getByRole('button', { name: 'Show' }).first().click()]);
    await textOf(page.locator('#revenue-table'), 'Cash');
    await page.locator('#cashup-table').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).first().click()]);
    expect(download.suggestedFilename()).to.match(/^revenue-by-method-.*\.csv$/);
    await screenshot(page, 'reports');
  });

  it('the audit log shows who did what, filtered by person', async () => {
    const { page } = s;
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.waitForURL(/\/settings\/audit$/);
    await page.getByLabel('Who').fill('admin');
    await page.getByLabel('What').selectOption('customer');
    await Promise.all([page.waitForURL(/actor=admin/), page.getByRole('button', { name: 'Filter' }).click()]);
    // "What" filters by the subject: a customer's entries include ledger.reverse and mpesa.stk-push, not only customer.*
    const who = await page.locator('#audit-table tbody td[data-label=Who]').allTextContents();
    const subjects = await page.locator('#audit-table tbody td[data-label=Subject]').allTextContents();
    const actions = await page.locator('#audit-table tbody td[data-label=Action]').allTextContents();
    expect(who.length).to.be.greaterThan(0);
    expect(who.map((w) => w.trim())).to.deep.equal(who.map(() => 'admin'));
    expect(subjects.filter((t) => !/^customer(\s#\S+)?$/.test(t.trim()))).to.deep.equal([]);
    expect(actions.some((a) => a.startsWith('customer.'))).to.equal(true);
    await screenshot(page, 'audit-log');
  });
});
