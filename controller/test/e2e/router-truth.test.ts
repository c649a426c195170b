import { expect } from 'chai';
import { expectStatus } from '../helpers/client.ts';
import { allApplied, eventually, startStack, type Stack } from '../helpers/stack.ts';

type Body = Record<string, unknown>;
const UNMANAGED = 'exists on the router but is not managed by Mtandao';

/** The router holds what the controller says (issue 11, items 1–3). */
describe('the router holds what the controller says (controller → agent → emulated router)', function () {
  this.timeout(120_000);

  describe('a plan edit reaches every entry that depends on it', () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack();
      await stack.startAgentInProcess();
      await allApplied(stack.api);
    });
    after(async () => stack.stop());

    it("a Static plan's new speed lands on the simple queue of every customer on it", async () => {
      const { api, fx, world } = stack;
      const ids: string[] = [];
      for (const [i, ip] of ['172.16.10.3', '172.16.10.4'].entries()) {
        ids.push((expectStatus(await api.post('/customers', fx.customerBody(world.static.id as string, { connectionType: 'static', ipAddress: ip, username: `queue${i}` })), 201) as Body).id as string);
      }
      await allApplied(api);
      const queues = () => stack.sim.store.list('/queue/simple').filter((q) => ids.some((id) => q.comment === `mtandao:${id}`));
      expect(queues().map((q) => q['max-limit'])).to.deep.equal(['5000000/10000000', '5000000/10000000']);
      expectStatus(await api.patch(`/plans/${world.static.id}`, { downloadSpeed: '40M', uploadSpeed: '8M' }), 200);
      await eventually(async () => (queues().every((q) => q['max-limit'] === '8000000/40000000') ? true : undefined), 'the new max-limit on every queue');
      await allApplied(api);
    });

    it("a Hotspot plan's new data limit lands on every user of it", async () => {
      const { api, fx, world } = stack;
      const c = expectStatus(await api.post('/customers', fx.customerBody(world.hotspot.id as string, { connectionType: 'hotspot', username: 'hs.limit' })), 201) as Body;
      await allApplied(api);
      const user = () => stack.sim.store.list('/ip/hotspot/user').find((u) => u.comment === `mtandao:${c.id}`);
      expect(user()?.['limit-bytes-total']).to.equal('0');
      expectStatus(await api.patch(`/plans/${world.hotspot.id}`, { dataLimit: 5_000_000_000 }), 200);
      await eventually(async () => (user()?.['limit-bytes-total'] === '5000000000' ? true : undefined), 'the new data limit on the user');
      await allApplied(api);
    });

    it("a renamed PPPoE plan's secrets follow the profile to its new name", async () => {
      const { api, fx, world } = stack;
      const c = expectStatus(await api.post('/customers', fx.customerBody(world.pppoe.id as string, { ipAddress: '10.64.7.1', username: 'renamed.plan' })), 201) as Body;
      await allApplied(api);
      expectStatus(await api.patch(`/plans/${world.pppoe.id}`, { name: 'Home renamed' }), 200);
      const secret = () => stack.sim.store.list('/ppp/secret').find((s) => s.comment === `mtandao:${c.id}`);
      await eventually(async () => (secret()?.profile === 'Home renamed' ? true : undefined), 'the secret on the renamed profile');
      await allApplied(api);
    });
  });

  for (const transport of ['api', 'ssh'] as const) {
    it(`never takes over an unmarked secret of the same name (over ${transport}): the job fails, the customer's page says why`, async () => {
      const stack = await startStack({ transport });
      try {
        await stack.startAgentInProcess();
        await allApplied(stack.api);
        stack.sim.store.add('/ppp/secret', { name: 'alice', password: 'the-isp-owners', service: 'pppoe' });
        const c = expectStatus(await stack.api.post('/customers', stack.fx.customerBody(stack.world.pppoe.id as string, { ipAddress: '10.64.7.9', username: 'alice' })), 201) as Body;
        const job = await eventually(async () => {
          const items = (expectStatus(await stack.api.get(`/provisioning/jobs?customerId=${c.id}`), 200) as { items: Body[] }).items;
          return items[0]?.status === 'failed' ? items[0] : undefined;
        }, 'the failed job');
        expect(job.lastError).to.contain(`/ppp/secret alice ${UNMANAGED}`);
        const detail = expectStatus(await stack.api.get(`/provisioning/jobs/${job.id}`), 200) as { events: Body[] };
        expect(detail.events.some((e) => String(e.message).includes(`/ppp/secret alice ${UNMANAGED}`))).to.equal(true);
        const view = expectStatus(await stack.api.get(`/customers/${c.id}`), 200) as { latestJob: Body };
        expect(view.latestJob).to.include({ status: 'failed' });
        expect(view.latestJob.lastError).to.contain(`/ppp/secret alice ${UNMANAGED}`);
        const secrets = stack.sim.store.list('/ppp/secret').filter((s) => s.name === 'alice');
        expect(secrets).to.have.length(1);
        expect(secrets[0]).to.include({ password: 'the-isp-owners' }).and.not.have.property('comment');
      } finally {
        await stack.stop();
      }
    });
  }
});
