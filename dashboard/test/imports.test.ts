import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import type { Download } from 'playwright-core';
import { screenshot } from './helpers/browser.ts';
import { run, sessionPerTest } from './helpers/run.ts';
import { activeCustomer } from './helpers/world.ts';
import { eventually } from './helpers/stack.ts';

const HEADER = 'full_name,phone,username,password,plan_name,connection_type,email,ip_address,account_number';
const text = async (d: Download) => readFile((await d.path())!, 'utf8');

describe('Import customers: template, preview with row errors, progress, failures file', function () {
  this.timeout(180_000);
  const s = sessionPerTest('admin');

  it('walks a file of good and bad rows from the customer list to the failures file', async () => {
    const { page } = s;
    const existing = await activeCustomer('Imported');
    const plan = run.stack.world.plans.pppoe.name;
    const tag = Date.now().toString(36);
    await page.goto('/customers');
    await page.getByRole('link', { name: 'Import', exact: true }).click();
    await page.waitForURL(/\/customers\/import$/);

    const [template] = await Promise.all([page.waitForEvent('download'), page.getByTestId('template-link').click()]);
    expect((await text(template)).trimEnd()).to.equal(HEADER);

    const file = [
      HEADER,
      `Achieng Import,0712000101,imp.a.${tag},pw-a,${plan},pppoe,,,`,
      `"Kamau, Import",0712000102,imp.b.${tag},pw-b,${plan},pppoe,b@example.com,,`,
      `Baraka Import,254712000103,imp.c.${tag},pw-c,${plan},pppoe,,,`,
      `Dup Import,0712000104,${existing.username},pw-d,${plan},pppoe,,,`,
      `Hot Import,0712000105,imp.e.${tag},pw-e,${plan},hotspot,,,`,
    ].join('\r\n');
    await page.getByLabel('CSV file').setInputFiles({ name: 'customers.csv', mimeType: 'text/csv', buffer: Buffer.from(`${file}\r\n`) });
    await page.getByRole('button', { name: 'Check the file' }).click();
    const preview = page.getByTestId('import-preview');
    await preview.getByText('3 ready').waitFor();
    expect(await page.getByTestId('preview-summary').textContent()).to.match(/5 rows: 3 ready, 2 with errors/);
    const rows = preview.getByTestId('preview-row');
    expect(await rows.count()).to.equal(5);
    await rows.nth(3).getByText('Username already exists').waitFor();
    await rows.nth(4).getByText('Unknown connection type').waitFor();
    expect(await rows.nth(1).textContent()).to.include('Kamau, Import');
    expect(await rows.nth(0).textContent()).to.not.include('pw-a'); // passwords are not shown back
    await screenshot(page, 'import-preview', { fullPage: true });

    await page.getByRole('button', { name: 'Import 3 customers' }).click();
    await page.waitForURL(/\/customers\/import\?id=\d+$/);
    const bar = page.getByTestId('import-progress');
    await bar.waitFor();
    expect(await bar.getAttribute('aria-valuemax')).to.equal('3');
    await page.getByRole('heading', { name: /Import finished/ }).waitFor();
    expect(await bar.getAttribute('aria-valuenow')).to.equal('3');
    expect(await page.getByTestId('import-counts').textContent()).to.match(/3\s+created\s+·\s+2\s+skipped/);
    await screenshot(page, 'import-finished');

    const [failures] = await Promise.all([page.waitForEvent('download'), page.getByTestId('failures-link').click()]);
    const bad = parse(await text(failures), { columns: true, bom: true }) as Record<string, string>[];
    expect(bad.map((r) => [r.full_name, r.error])).to.deep.equal([
      ['Dup Import', 'username: Username already exists'],
      ['Hot Import', 'connection_type: Unknown connection type'],
    ]);
    expect(bad[1]!.password).to.equal('pw-e');

    await page.goto(`/customers?search=imp.b.${tag}`);
    await page.getByText('Kamau, Import').waitFor();
  });

  it('refuses a file with a wrong header, naming it, and creates nothing', async () => {
    const { page } = s;
    await page.goto('/customers/import');
    await page.getByLabel('CSV file').setInputFiles({
      name: 'bad.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(`${HEADER.replace('plan_name', 'Plan')}\r\nA,0712000199,hdr.x,pw,P,pppoe,,,\r\n`),
    });
    await page.getByRole('button', { name: 'Check the file' }).click();
    await page
      .getByRole('alert')
      .getByText(/Unknown column "Plan"/)
      .waitFor();
    expect(await page.getByTestId('import-preview').count()).to.equal(0);
  });

  it('imports from a running router: scan, map each profile to a plan, adopt, the entries marked and otherwise untouched', async () => {
    const { page } = s;
    const { sim, world } = run.stack;
    const tag = Date.now().toString(36).slice(-4);
    sim.store.add('/ppp/profile', { name: `old-10M-${tag}`, 'rate-limit': '5M/10M' });
    sim.store.add('/ppp/profile', { name: `old-2M-${tag}`, 'rate-limit': '1M/2M' });
    for (let i = 0; i < 4; i++) {
      sim.store.add('/ppp/secret', {
        name: `hand${i}.${tag}`,
        password: `hand-pw-${i}`,
        service: 'pppoe',
        profile: i < 3 ? `old-10M-${tag}` : `old-2M-${tag}`,
        'remote-address': `10.64.210.${10 + i}`,
        comment: i === 0 ? 'Mama Mboga' : '',
      });
    }
    const before = sim.store.list('/ppp/secret').filter((r) => r.name?.endsWith(`.${tag}`));

    await page.goto('/sites');
    await page.getByRole('link', { name: 'Import from router' }).first().click();
    await page.waitForURL(new RegExp(`/routers/${world.router.id}/import$`));
    await page.getByTestId('scan').click();
    const group10 = page.getByTestId('profile-group').filter({ hasText: `old-10M-${tag}` });
    await group10.waitFor({ timeout: 30_000 });
    // the plan of the same speed is suggested
    expect(await group10.getByTestId('plan-select').inputValue()).to.equal(world.plans.pppoe.id);
    const group2 = page.getByTestId('profile-group').filter({ has: page.getByRole('heading', { name: `PPPoE · old-2M-${tag}` }) });
    expect(await group2.getByTestId('plan-select').inputValue()).to.equal('');
    await group2.getByText('Create a plan from this profile').click();
    await group2.getByLabel('Price').fill('800');
    await group2.getByRole('button', { name: 'Create plan' }).click();
    await page.getByText(`Plan old-2M-${tag} plan created from profile old-2M-${tag}`).waitFor();
    expect(await group2.getByTestId('plan-select').inputValue()).to.not.equal('');
    // adopt only this test's entries
    for (const box of await page.locator('input[name="entry"]').all()) {
      const label = (await box.getAttribute('aria-label')) ?? '';
      if (!label.endsWith(`.${tag}`)) await box.uncheck();
    }
    await screenshot(page, 'import-from-router', { fullPage: true });
    await page.getByTestId('adopt').click();
    await page.getByTestId('adopt-result').getByText('4 adopted').waitFor();
    await page
      .getByTestId('found-entry')
      .filter({ hasText: `hand0.${tag}` })
      .getByText('Adopted')
      .waitFor();

    await eventually(
      async () =>
        sim.store.list('/ppp/secret').filter((r) => r.name?.endsWith(`.${tag}`) && r.comment?.startsWith('mtandao:')).length === 4 ? true : undefined,
      'the entries marked',
      20_000,
    );
    for (const was of before) {
      const now = sim.store.list('/ppp/secret').find((r) => r['.id'] === was['.id'])!;
      expect({ ...now, comment: undefined }).to.deep.equal({ ...was, comment: undefined });
    }
    await page.goto(`/customers?search=hand0.${tag}`);
    await page.getByText('Mama Mboga').waitFor();
  });
});
