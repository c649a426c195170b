import { expect } from 'chai';
import type { RouterView, SiteView } from '@mtandao/protocol/api';
import { enrollAgent } from '@mtandao/agent';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expectStatus } from '../../controller/test/helpers/client.ts';
import { screenshot, textOf } from './helpers/browser.ts';
import { run, sessionPerTest } from './helpers/run.ts';

/** Issue 12 item 2: the enrolment dialog gives the commands for each way to run the agent, filled in. */
describe('Enrolment dialog', function () {
  this.timeout(60_000);
  const s = sessionPerTest('admin');

  it('shows the Linux box, RouterOS container and by-hand commands with the controller URL, the token and the router', async () => {
    const { api, controller } = run.stack;
    const site = expectStatus(await api.post<SiteView>('/sites', { name: 'Mlolongo POP' }), 201);
    expectStatus(await api.post<RouterView>('/routers', { name: 'mlolongo-core', siteId: site.id }), 201);
    const { page } = s;
    await page.goto('/sites');
    await page.getByTestId('site').filter({ hasText: 'Mlolongo POP' }).getByRole('button', { name: 'Enrol agent' }).click();
    await textOf(page.getByTestId('enrollment'), 'Enrol the agent of Mlolongo POP');

    const manual = await textOf(page.getByTestId('enrol-manual').locator('code'), 'mtandao-agent enroll');
    const token = /--token (\S+)/.exec(manual)![1]!;
    const url = controller.config.publicUrl;
    expect(manual).to.equal(`mtandao-agent enroll --controller ${url} --token ${token}`);

    const linux = await textOf(page.getByTestId('enrol-linux').locator('code'), 'systemctl enable --now mtandao-agent');
    expect(linux)
      .to.contain(`'${url}' '${token}'`)
      .and.contain('/etc/mtandao-agent/agent.env')
      .and.contain('mtandao-agent.service')
      .and.contain('mtandao-agent doctor');

    const routeros = await textOf(page.getByTestId('enrol-routeros').locator('code'), '/container/add');
    expect(routeros).to.contain(`/container/envs/add list=mtandao key=MTANDAO_CONTROLLER_URL value="${url}"`);
    expect(routeros).to.contain(`/container/envs/add list=mtandao key=MTANDAO_ENROLL_TOKEN value="${token}"`);
    expect(routeros).to.contain('/container/envs/add list=mtandao key=MTANDAO_ROUTER_NAME value="mlolongo-core"');
    expect(routeros).to.contain('/interface/veth/add name=veth-mtandao address=172.17.0.2/24 gateway=172.17.0.1');
    await textOf(page.getByTestId('enrol-routeros'), 'Replace REGISTRY/mtandao-agent:0.1.0 with the agent image in your registry');
    await screenshot(page, 'enrolment-dialog');

    // the token in the commands is the real one: an agent enrols with it
    const identity = await enrollAgent({ controllerUrl: url, token, stateDir: path.join(mkdtempSync(path.join(tmpdir(), 'mtandao-enrol-')), 'state') });
    expect(identity.siteName).to.equal('Mlolongo POP');
  });
});
