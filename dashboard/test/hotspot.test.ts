import { expect } from 'chai';
import { strFromU8, unzipSync } from 'fflate';
import type { PlanView } from '@mtandao/protocol/api';
import { expectStatus } from '../../controller/test/helpers/client.ts';
import { PHONE, screenshot, signIn, textOf } from './helpers/browser.ts';
import { run } from './helpers/run.ts';
import { eventually } from './helpers/stack.ts';

const SHORTCODE = '600984';

/** M-Pesa as an admin sets it up (idempotent: any test may run first). */
async function mpesaReady(): Promise<void> {
  const { api } = run.stack;
  const view = expectStatus(await api.get<{ shortcode: string | null; lastRegistration: { ok: boolean } | null }>('/settings/mpesa'), 200);
  if (view.shortcode === SHORTCODE && view.lastRegistration?.ok) return;
  expectStatus(await api.patch('/settings/mpesa', { shortcode: SHORTCODE, consumerKey: 'key-1', consumerSecret: 'secret-1', passkey: 'passkey-1' }), 200);
  expect(expectStatus(await api.post<{ ok: boolean }>('/settings/mpesa/register-urls'), 200).ok).to.equal(true);
}

describe('Hotspot: the captive portal on a phone, vouchers in the dashboard', function () {
  this.timeout(90_000);
  let plan: PlanView;

  before(async () => {
    const { api, sim, world, controller } = run.stack;
    // a plan of its own, taken away afterwards: another test expects to delete every hotspot plan
    plan = expectStatus(
      await api.post<PlanView>('/plans', {
        name: 'Portal day pass',
        connectionType: 'hotspot',
        price: '30',
        downloadSpeed: '5M',
        uploadSpeed: '2M',
        validity: { count: 1, unit: 'days' },
        sharedUsers: 1,
        routerIds: [world.router.id],
      }),
      201,
    );
    await mpesaReady();
    await sim.hotspotHttp.start('127.0.0.1', 0);
    // the operator's step: the login.html of hotspot-files.zip onto the router
    const zip = await fetch(`${controller.url}/api/v1/routers/${world.router.id}/hotspot-files.zip`, { headers: { cookie: api.cookie ?? '' } });
    sim.hotspotHttp.files.set('login.html', strFromU8(unzipSync(new Uint8Array(await zip.arrayBuffer()))['hotspot/login.html']!));
  });
  after(async () => {
    const { api, sim, controller } = run.stack;
    await sim.hotspotHttp.stop();
    await controller.services.db.exec('DELETE FROM voucher_batches WHERE plan_id = $1', [plan.id]);
    for (const c of await controller.services.db.rows<{ id: string }>('SELECT id FROM customers WHERE plan_id = $1', [plan.id]))
      expectStatus(await api.delete(`/customers/${c.id}`), 200);
    expectStatus(await api.delete(`/plans/${plan.id}`), 200);
  });

  it('a phone walks from the router\u2019s login redirect through M-Pesa to "You are online"', async () => {
    const context = await run.browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    try {
      const mac = '02:DA:5B:00:00:01';
      // the router sends an unauthenticated browser to its login page; login.html forwards it to the portal
      await page.goto(run.stack.sim.hotspotHttp.loginUrl({ mac, ip: '10.5.50.101' }, 'http://example.com/'));
      await page.waitForURL((u) => u.pathname.startsWith('/portal/'));
      await textOf(page.locator('main'), plan.name);
      await screenshot(page, 'portal-phone');
      await page.getByLabel('M-Pesa phone number').fill('0712 345 999');
      await page.getByRole('button', { name: 'Pay with M-Pesa' }).click();
      await textOf(page.locator('h1'), 'Check your phone');
      await screenshot(page, 'portal-waiting');
      // the Daraja fake answers for the phone; the page refreshes, then posts the router's own form
      await textOf(page.locator('h1'), 'You are online', 20_000);
      await screenshot(page, 'portal-online');
      expect(run.stack.sim.store.list('/ip/hotspot/active').some((s) => s['mac-address'] === mac)).to.equal(true);
    } finally {
      await context.close();
    }
  });

  it('works without JavaScript: a voucher typed on the portal logs the phone in with one tap more', async () => {
    const { api, sim } = run.stack;
    const batch = expectStatus(await api.post<{ id: string }>('/vouchers/batches', { planId: plan.id, count: 1 }), 201);
    const [v] = expectStatus(await api.get<{ items: { code: string }[] }>(`/vouchers?batchId=${batch.id}`), 200).items;
    await eventually(async () => (sim.store.lookup('/ip/hotspot/user', 'name', v!.code)?.length ? true : undefined), 'the voucher on the router');
    const context = await run.browser.newContext({ viewport: PHONE, javaScriptEnabled: false });
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    try {
      await page.goto(sim.hotspotHttp.loginUrl({ mac: '02:DA:5B:00:00:02', ip: '10.5.50.102' }));
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL((u) => u.pathname.startsWith('/portal/'));
      await page.getByLabel('Voucher code').fill(v!.code.toLowerCase());
      await page.getByRole('button', { name: 'Connect', exact: true }).click();
      await page.getByRole('button', { name: 'Connect now' }).click();
      await textOf(page.locator('h1'), 'You are online');
    } finally {
      await context.close();
    }
  });

  it('staff make a batch, print its sheet and see who is online', async () => {
    const { page, context } = await signIn(run.browser, run.stack, 'staff');
    try {
      await page.goto('/vouchers');
      await page.getByLabel('How many').fill('12');
      await page.getByLabel('Prefix').fill('WK');
      await page.getByRole('button', { name: 'Make vouchers' }).click();
      const notice = await textOf(page.getByTestId('notice'), '12 vouchers');
      const batchId = /Batch (\d+)/.exec(notice)![1]!;
      await screenshot(page, 'vouchers-page');
      const [print] = await Promise.all([
        context.waitForEvent('page'),
        page.locator(`tr[data-batch="${batchId}"]`).getByRole('link', { name: 'Print sheet' }).click(),
      ]);
      await print.waitForLoadState();
      expect(await print.locator('.card svg').count()).to.equal(12);
      expect(await print.locator('.code').first().textContent()).to.match(/^WK[2-9A-HJKMNP-Z]{8}$/);
      await screenshot(print, 'voucher-sheet');
      await print.close();

      await page.goto('/hotspot');
      await page.getByRole('button', { name: 'Read the router now' }).click();
      await textOf(page.getByTestId('notice'), 'Asked the agent');
      await eventually(
        async () => {
          await page.reload();
          return (await page.getByTestId('online').count()) > 0 ? true : undefined;
        },
        'who is online',
        15_000,
      );
      await textOf(page.getByTestId('online'), '02:DA:5B:00:00:01');
      await screenshot(page, 'hotspot-online');
    } finally {
      await context.close();
    }
  });
});
