import { expect } from 'chai';
import { DESKTOP, screenshot, signIn, type Session } from './helpers/browser.ts';
import { run } from './helpers/run.ts';
import { USERS } from './helpers/stack.ts';
import { activeCustomer } from './helpers/world.ts';

describe('SMS: templates with a live preview, bulk SMS with a confirmed count', function () {
  this.timeout(180_000);
  const s = {} as Session;
  // signing in hashes a password (scrypt): on a loaded machine it takes longer than the usual helper waits
  beforeEach(async function () {
    this.timeout(120_000);
    const context = await run.browser.newContext({ baseURL: run.stack.url, viewport: DESKTOP, timezoneId: 'Africa/Nairobi' });
    context.setDefaultTimeout(30_000);
    const page = await context.newPage();
    await page.goto('/login');
    await page.getByLabel('Username').fill(USERS.admin.username);
    await page.getByLabel('Password').fill(USERS.admin.password);
    await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: 90_000 }), page.getByRole('button', { name: 'Sign in' }).click()]);
    Object.assign(s, { context, page });
  });
  afterEach(async () => s.context?.close());

  it('shows the saved templates and their previews from the server, without JavaScript', async () => {
    const plain = await signIn(run.browser, run.stack, 'admin', { javaScriptEnabled: false });
    try {
      await plain.page.goto('/settings/sms');
      expect(await plain.page.getByTestId('template-expired').getByLabel('Text').inputValue()).to.match(/\{name\}/);
      expect(await plain.page.getByTestId('preview-expired').textContent()).to.match(/^Hi Achieng|Achieng/);
    } finally {
      await plain.context.close();
    }
  });

  it('edits a template with its preview following the text, and keeps it after saving', async () => {
    const { page } = s;
    await page.getByRole('link', { name: 'SMS templates' }).click();
    await page.waitForURL(/\/settings\/sms$/);
    const expired = page.getByTestId('template-expired');
    const preview = page.getByTestId('preview-expired');
    await expired.getByLabel('Text').fill('Hi {name}, {plan} ended {expiry}. Pay {amount} to {paybill} acc {account}. {bogus}');
    // the preview follows the typing, before anything is saved
    await page
      .getByTestId('preview-expired')
      .getByText(/^Hi Achieng, Home 10 Mbps ended 31 Jan 2027 14:05\. Pay .*1,500\.00 to .* acc ACH1001\. \{bogus\}$/)
      .waitFor();
    await expired.getByText('Unknown placeholder: {bogus}').waitFor();
    await page.getByLabel('Reminder days before expiry').fill('5, 2');
    await page.getByRole('button', { name: 'Save templates' }).click();
    await page.getByText('SMS templates saved.').waitFor();
    await page.reload();
    expect(await expired.getByLabel('Text').inputValue()).to.match(/^Hi \{name\}, \{plan\} ended/);
    expect(await page.getByLabel('Reminder days before expiry').inputValue()).to.equal('5, 2');
    expect(await preview.textContent()).to.match(/^Hi Achieng/);
    await screenshot(page, 'sms-templates');
    // an empty template is refused, named at its field
    await expired.getByLabel('Text').fill('');
    await page.getByRole('button', { name: 'Save templates' }).click();
    await page.getByText('Template must not be empty').first().waitFor();
  });

  it('sends a bulk SMS to the filtered list after showing the count, and the customer’s SMS tab shows it', async () => {
    const { page } = s;
    const a = await activeCustomer('Bulka');
    const b = await activeCustomer('Bulka');
    const tag = a.fullName.split(' ')[0]!; // "Bulka": both customers, nobody else
    await page.goto(`/customers?search=${tag}`);
    await page.getByText('Send an SMS to this list').click();
    await page.getByLabel('Message').fill('Hello {name}, maintenance tonight 22:00–23:00. {company}');
    await page.getByRole('button', { name: 'Count recipients' }).click();
    const confirm = page.getByTestId('bulk-confirm');
    await confirm.getByText('This SMS goes to 2 customers.').waitFor();
    await confirm.getByText(/The first reads: “Hello Bulka, maintenance tonight/).waitFor();
    await screenshot(page, 'bulk-sms-confirm');
    await confirm.getByRole('button', { name: 'Send to 2 customers' }).click();
    await page.getByText('Queued 2 SMS').waitFor();
    for (const c of [a, b]) {
      await page.goto(`/customers/${c.id}?tab=sms`);
      const m = page.getByTestId('sms').filter({ hasText: 'maintenance tonight' });
      await m.waitFor();
      expect(await m.textContent()).to.match(/bulk/);
    }
    expect(run.stack).to.have.property('url');
  });
});
