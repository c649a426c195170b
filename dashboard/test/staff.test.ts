import { expect } from 'chai';
import { screenshot } from './helpers/browser.ts';
import { run, sessionPerTest } from './helpers/run.ts';

describe('Staff accounts (admin)', function () {
  this.timeout(60_000);
  const s = sessionPerTest('admin');

  it('adds an account that can sign in, disables it, and sets a new password', async () => {
    const { page } = s;
    const username = `amani.${Date.now().toString(36).slice(-5)}`;
    await page.getByRole('link', { name: 'Staff accounts' }).click();
    await page.waitForURL(/\/settings\/staff$/);
    // the help of a refused form, at its field
    await page.getByRole('button', { name: 'Add account' }).click();
    await page.getByText('Username is required').first().waitFor();
    await page.getByLabel('Username', { exact: true }).fill(username);
    await page.getByLabel('Full name').fill('Amani Wekesa');
    await page.getByLabel('Role', { exact: true }).selectOption('noc');
    await page.getByLabel('Password', { exact: true }).fill('amani-password-1');
    await page.getByRole('button', { name: 'Add account' }).click();
    await page.getByText(`${username} can sign in now, as NOC (read-only).`).waitFor();
    await screenshot(page, 'staff-accounts');

    const other = await run.browser.newContext({ baseURL: run.stack.url });
    const p2 = await other.newPage();
    const signIn = async (password: string) => {
      await p2.goto('/login');
      await p2.getByLabel('Username').fill(username);
      await p2.getByLabel('Password').fill(password);
      await p2.getByRole('button', { name: 'Sign in' }).click();
    };
    await signIn('amani-password-1');
    await p2.waitForURL((u) => !u.pathname.startsWith('/login'));
    expect(await p2.getByRole('link', { name: 'Add Customer' }).count()).to.equal(0);

    const row = page.getByTestId('staff-row').filter({ hasText: username });
    await row.getByRole('button', { name: 'Disable' }).click();
    await page.getByText(`${username} can no longer sign in.`).waitFor();
    await p2.goto('/customers');
    await p2.waitForURL(/\/login/);
    await signIn('amani-password-1');
    await p2.getByText('Wrong username or password').waitFor();

    await row.getByRole('button', { name: 'Enable' }).click();
    await page.getByText(`${username} can sign in again.`).waitFor();
    await row.getByText('Password…').click();
    await row.getByLabel(`New password for ${username}`).fill('amani-password-2');
    await row.getByRole('button', { name: 'Set' }).click();
    await page.getByText(`New password set for ${username}`).waitFor();
    await signIn('amani-password-2');
    await p2.waitForURL((u) => !u.pathname.startsWith('/login'));
    await other.close();
  });

  it('is for admins only', async () => {
    const { signIn } = await import('./helpers/browser.ts');
    const staff = await signIn(run.browser, run.stack, 'staff');
    expect(await staff.page.getByRole('link', { name: 'Staff accounts' }).count()).to.equal(0);
    const res = await staff.page.goto('/settings/staff');
    expect(res?.status()).to.equal(403);
    await staff.context.close();
  });
});
