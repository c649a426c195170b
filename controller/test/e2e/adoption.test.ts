import { expect } from 'chai';
import { expectStatus } from '../helpers/client.ts';
import { allApplied, eventually, startStack, type Stack } from '../helpers/stack.ts';

type Body = Record<string, unknown>;
type Scan = { status: string; error: string | null; entries: Body[]; profiles: Body[] };

/** Import from router (SPEC section 13): scan an emulated router, adopt what it holds, change nothing but the markers. */
describe('import from a running router (controller → agent → emulated router)', function () {
  this.timeout(120_000);
  let stack: Stack;
  before(async () => {
    stack = await startStack();
    await stack.startAgentInProcess();
    await allApplied(stack.api);
  });
  after(async () => stack?.stop());

  const scanned = async (): Promise<Scan> =>
    eventually(async () => {
      const s = expectStatus(await stack.api.get(`/routers/${stack.world.router.id}/adoption-scan`), 200) as Scan;
      return s.status === 'running' ? undefined : s;
    }, 'the scan to finish');

  it('adopts 50 hand-made secrets on 3 profiles with their passwords and addresses, marking them and changing nothing else', async () => {
    const { api, sim, world } = stack;
    const routerId = world.router.id as string;
    const managed = expectStatus(
      await api.post('/customers', stack.fx.customerBody(world.pppoe.id as string, { ipAddress: '10.64.9.9', username: 'already.managed' })),
      201,
    ) as Body;
    await allApplied(api);
    // what an ISP's hand-run MikroTik holds: profiles and secrets without any marker
    sim.store.add('/ppp/profile', { name: 'gold', 'rate-limit': '5M/10M', 'local-address': '10.64.0.1' });
    sim.store.add('/ppp/profile', { name: 'silver', 'rate-limit': '2M/4M', 'local-address': '10.64.0.1' });
    sim.store.add('/ppp/profile', { name: 'bronze', 'rate-limit': '1M/2M', 'local-address': '10.64.0.1' });
    const profiles = ['gold', 'silver', 'bronze'];
    for (let i = 0; i < 50; i++) {
      const props: Record<string, string> = { name: `sub${i}`, password: `pw ${i} "$\\x`, service: 'pppoe', profile: profiles[i % 3]! };
      if (i === 49)
        props['remote-address'] = '192.168.99.5'; // outside every pool: reported, not adopted
      else if (i !== 48) props['remote-address'] = `10.64.20.${i + 2}`; // #48 has none: one is assigned
      if (i === 0) props.comment = 'Achieng Otieno 0712345678';
      if (i === 1) props.disabled = 'true';
      sim.store.add('/ppp/secret', props);
    }
    const before = JSON.parse(JSON.stringify([...sim.store.list('/ppp/secret'), ...sim.store.list('/ppp/profile')])) as Record<string, string>[];

    expectStatus(await api.post(`/routers/${routerId}/adoption-scan`), 202);
    const scan = await scanned();
    expect(scan.status, scan.error ?? '').to.equal('done');
    const secrets = scan.entries.filter((e) => e.kind === 'pppoe');
    expect(secrets.map((e) => e.name))
      .to.have.length(50)
      .and.to.not.include('already.managed');
    expect(JSON.stringify(scan)).to.not.include('pw 7 '); // passwords never shown
    const byName = new Map(scan.profiles.filter((p) => p.connectionType === 'pppoe').map((p) => [p.name, p]));
    expect(byName.get('gold')).to.include({ users: 17, rateLimit: '5M/10M', suggestedPlanId: world.pppoe.id }); // the plan's 10M down / 5M up
    expect(byName.get('silver')).to.include({ users: 17, suggestedPlanId: null });
    // the job that carried the page no longer holds the passwords
    const jobs = expectStatus(await api.get(`/provisioning/jobs?routerId=${routerId}&pageSize=50`), 200) as { items: Body[] };
    expect(JSON.stringify(jobs)).to.not.include('pw 7 ');

    const silver = expectStatus(await api.post(`/routers/${routerId}/adoption-scan/plans`, { profile: 'silver', price: '1000' }), 201) as Body;
    expect(silver).to.include({ name: 'silver plan', connectionType: 'pppoe', downloadSpeed: '4M', uploadSpeed: '2M' });

    const res = expectStatus(
      await api.post(`/routers/${routerId}/adopt`, {
        profiles: { gold: world.pppoe.id, silver: silver.id, bronze: world.pppoe.id },
        entries: secrets.map((e) => e.id),
      }),
      200,
    ) as { adopted: number; failed: number; results: Body[]; jobId: string };
    expect(res).to.include({ adopted: 49, failed: 1 });
    expect(res.results.find((r) => r.name === 'sub49')!.error).to.match(/IP address 192\.168\.99\.5 is outside every pool/);

    const mark = await eventually(async () => {
      const job = expectStatus(await api.get(`/provisioning/jobs/${res.jobId}`), 200) as Body;
      return job.status === 'applied' || job.status === 'failed' ? job : undefined;
    }, 'the marking job');
    expect(mark.status, String(mark.lastError)).to.equal('applied');

    // on the router: every adopted secret carries its marker, and nothing else of it or of the profiles changed
    const customerOf = new Map(res.results.filter((r) => r.customerId).map((r) => [r.name as string, r.customerId as string]));
    for (const was of before) {
      const now = [...sim.store.list('/ppp/secret'), ...sim.store.list('/ppp/profile')].find((r) => r['.id'] === was['.id'] && r.name === was.name)!;
      const { comment, ...rest } = now;
      const { comment: oldComment, ...oldRest } = was;
      expect(rest, was.name).to.deep.equal(oldRest);
      const id = customerOf.get(was.name!);
      expect(comment, was.name).to.equal(id ? `mtandao:${id}` : oldComment);
    }

    const sub7 = expectStatus(await api.get(`/customers/${customerOf.get('sub7')}`), 200) as Body;
    expect(sub7).to.include({ username: 'sub7', ipAddress: '10.64.20.9', planId: silver.id, status: 'active', connectionType: 'pppoe' });
    expect((expectStatus(await api.get(`/customers/${sub7.id}/password`), 200) as Body).password).to.equal('pw 7 "$\\x');
    const sub0 = expectStatus(await api.get(`/customers/${customerOf.get('sub0')}`), 200) as Body;
    expect(sub0).to.include({ fullName: 'Achieng Otieno 0712345678', phone: '254712345678' });
    expect((expectStatus(await api.get(`/customers/${customerOf.get('sub1')}`), 200) as Body).status).to.equal('suspended');
    const sub48 = expectStatus(await api.get(`/customers/${customerOf.get('sub48')}`), 200) as Body;
    expect(sub48.ipAddress as string).to.match(/^10\.64\./);
    expect(managed.id).to.be.a('string');

    // a second scan finds only what was not adopted
    expectStatus(await api.post(`/routers/${routerId}/adoption-scan`), 202);
    const again = await eventually(async () => {
      const s = expectStatus(await api.get(`/routers/${routerId}/adoption-scan`), 200) as Scan & { id: string };
      return s.status !== 'running' && s.entries.every((e) => e.kind !== 'pppoe' || e.name === 'sub49') ? s : undefined;
    }, 'the second scan');
    expect(again.entries.filter((e) => e.kind === 'pppoe').map((e) => e.name)).to.deep.equal(['sub49']);
  });

  it('an imported customer whose name the router holds unmarked fails on its own page, and the others land', async () => {
    const { api, sim, world } = stack;
    sim.store.add('/ppp/secret', { name: 'handmade.csv', password: 'owners-pw', service: 'pppoe' });
    const file = `full_name,phone,username,password,plan_name,connection_type,email,ip_address,account_number\r\nHand Made,0712555001,handmade.csv,new-pw,${world.pppoe.name},pppoe,,,\r\nFresh One,0712555002,fresh.csv,new-pw,${world.pppoe.name},pppoe,,,\r\n`;
    const dry = expectStatus(await api.request('POST', '/imports/customers', file, { 'content-type': 'text/csv' }), 201) as { id: string; valid: number };
    expect(dry.valid).to.equal(2);
    expectStatus(await api.post(`/imports/${dry.id}/commit`), 202);
    const jobOf = async (username: string) => {
      const list = expectStatus(await api.get(`/customers?search=${username}`), 200) as { items: Body[] };
      return (list.items[0]?.latestJob as Body | undefined) ?? undefined;
    };
    const failed = await eventually(async () => ((await jobOf('handmade.csv'))?.status === 'failed' ? jobOf('handmade.csv') : undefined), 'the failed job');
    expect(failed!.lastError).to.contain('/ppp/secret handmade.csv exists on the router but is not managed by Mtandao');
    await eventually(async () => ((await jobOf('fresh.csv'))?.status === 'applied' ? true : undefined), 'the other customer applied');
    expect(sim.store.list('/ppp/secret').find((r) => r.name === 'handmade.csv'))
      .to.include({ password: 'owners-pw' })
      .and.not.have.property('comment');
  });

  it('refuses what cannot be adopted, naming it', async () => {
    const routerId = stack.world.router.id as string;
    const res = await stack.api.post(`/routers/${routerId}/adopt`, { profiles: {}, entries: [] });
    expect(res.status).to.equal(422);
    expect((res.body as { error: { field: string } }).error.field).to.equal('entries');
    const wrong = await stack.api.post(`/routers/${routerId}/adopt`, { profiles: {}, entries: ['999999'] });
    expect(wrong.status).to.equal(422);
    const plan = await stack.api.post(`/routers/${routerId}/adoption-scan/plans`, { profile: 'no-such-profile', price: '10' });
    expect(plan.status).to.equal(422);
  });
});
