import { expect } from 'chai';
import { JobsRepository } from '../src/repositories/jobs.repository.ts';
import { OutboxRepository } from '../src/repositories/outbox.repository.ts';
import { ApiClient, expectStatus } from './helpers/client.ts';
import { ADMIN_PASSWORD, startTestController } from './helpers/controller.ts';
import { Fixtures } from './helpers/fixtures.ts';

type Event = { id: string; at: string; kind: string; message: string; agentId: string | null; commandId: string | null; routerError: string | null };

// The job log NOC reads (GET /provisioning/jobs/:id): the happy path writes no event rows for its
// sending and its success (the job row tells them), yet the log tells every attempt as before.
describe('job log: every attempt and its outcome, with rows only where the job row cannot tell', function () {
  this.timeout(30_000);
  let controller: Awaited<ReturnType<typeof startTestController>>;
  let api: ApiClient;
  let outbox: OutboxRepository;
  let jobs: JobsRepository;
  let siteId: string;
  let planId: string;
  let n = 0;

  before(async () => {
    controller = await startTestController();
    api = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
    const fx = new Fixtures(api);
    const world = await fx.world();
    siteId = String(world.site.id);
    planId = world.pppoe.id as string;
    outbox = new OutboxRepository(controller.services.db);
    jobs = new JobsRepository(controller.services.db);
    // no agent connects: the test's agent ids are only rows, jobs move only when the test moves them
    await controller.services.db.exec(`INSERT INTO agents (id, site_id, public_key) SELECT a, $1, 'x' FROM unnest($2::text[]) AS a`, [
      siteId,
      ['agt_a', 'agt_b'],
    ]);
    const add = async () => {
      n += 1;
      return expectStatus(await api.post('/customers', fx.customerBody(planId, { ipAddress: `10.64.9.${n}`, username: `log.${n}` })), 201);
    };
    newJob = async () => {
      const c = (await add()) as { id: string };
      const rows = await controller.services.db.rows<{ id: string }>('SELECT id::text FROM provisioning_jobs WHERE customer_id = $1', [c.id]);
      return rows[0]!.id;
    };
  });
  after(async () => controller?.stop());

  let newJob: () => Promise<string>;
  const log = async (id: string) => (expectStatus(await api.get(`/provisioning/jobs/${id}`), 200) as { events: Event[] }).events;
  const stored = async (id: string) =>
    (await controller.services.db.rows<{ kind: string }>('SELECT kind FROM job_events WHERE job_id = $1 ORDER BY id', [id])).map((r) => r.kind);
  const claimOne = async (id: string, agent = 'agt_a') => {
    const claimed = (await outbox.claim(siteId, agent, 100)).find((j) => String(j.id) === id);
    expect(claimed, `job ${id} claimed`).to.not.equal(undefined);
    return claimed!;
  };

  it('pending → sent → applied: the log shows created, sent and applied, and none of them is a row', async () => {
    const id = await newJob();
    expect((await log(id)).map((e) => e.kind)).to.deep.equal(['created']);
    const job = await claimOne(id);
    const sent = (await log(id))[1]!;
    expect(sent).to.include({ kind: 'sent', agentId: 'agt_a', commandId: job.command_id, message: `sent to agent agt_a (attempt 1, seq ${job.seq})` });
    const settled = await outbox.settleApplied(
      [
        {
          commandId: job.command_id,
          result: { changes: ['add /ppp/secret x'] },
          event: 'applied on the router in 3 ms: add /ppp/secret x',
          seq: Number(job.seq),
        },
      ],
      'agt_a',
    );
    expect(settled).to.deep.equal([job.command_id]);
    const events = await log(id);
    expect(events.map((e) => [e.kind, e.commandId])).to.deep.equal([
      ['created', null],
      ['sent', job.command_id],
      ['applied', job.command_id],
    ]);
    expect(events[2]).to.include({ message: 'applied on the router in 3 ms: add /ppp/secret x', agentId: 'agt_a', routerError: null });
    expect(new Set(events.map((e) => e.id)).size).to.equal(3);
    expect(await stored(id)).to.deep.equal([]);
  });

  it('a retried job logs each attempt: the first sending is stored when the job goes back to the queue', async () => {
    const id = await newJob();
    const first = await claimOne(id);
    const retry = await outbox.settle(
      first.command_id,
      { status: 'pending', delayMs: 0, error: 'router down', routerError: 'no route to host', event: 'failed: router down; retrying in 0 s' },
      'agt_a',
    );
    expect(retry?.status).to.equal('pending');
    const second = await claimOne(id, 'agt_b');
    await outbox.settleApplied([{ commandId: second.command_id, result: null, event: 'applied on the router in 2 ms: nothing to change', seq: 1 }], 'agt_b');
    const events = await log(id);
    expect(events.map((e) => [e.kind, e.agentId, e.commandId])).to.deep.equal([
      ['created', null, null],
      ['sent', 'agt_a', first.command_id],
      ['retry-scheduled', 'agt_a', first.command_id],
      ['sent', 'agt_b', second.command_id],
      ['applied', 'agt_b', second.command_id],
    ]);
    expect(events[1]!.message).to.equal(`sent to agent agt_a (attempt 1, seq ${first.seq})`);
    expect(events[3]!.message).to.equal(`sent to agent agt_b (attempt 2, seq ${second.seq})`);
    expect(events[2]!.routerError).to.equal('no route to host');
    expect(await stored(id)).to.deep.equal(['sent', 'retry-scheduled']);
  });

  it('a failed job logs its sending and its failure', async () => {
    const id = await newJob();
    const job = await claimOne(id);
    await outbox.settle(job.command_id, { status: 'failed', error: 'bad profile', routerError: 'input does not match', event: 'failed: bad profile' }, 'agt_a');
    expect((await log(id)).map((e) => [e.kind, e.commandId])).to.deep.equal([
      ['created', null],
      ['sent', job.command_id],
      ['failed', job.command_id],
    ]);
  });

  it('requeued unsent and orphaned jobs keep their attempt in the log', async () => {
    const a = await newJob();
    const b = await newJob();
    const ca = await claimOne(a); // b is claimed with it
    const status = async (id: string) =>
      (await controller.services.db.rows<{ status: string; command_id: string }>('SELECT status, command_id FROM provisioning_jobs WHERE id = $1', [id]))[0]!;
    const sentB = (await status(b)).command_id;
    expect(await outbox.requeueUnsent([ca.command_id], 'agt_a')).to.equal(1);
    expect((await status(b)).status).to.equal('sent');
    expect(await outbox.requeueOrphans(siteId, 'agt_b')).to.be.at.least(1);
    expect((await status(b)).status).to.equal('pending');
    const again = await outbox.claim(siteId, 'agt_b', 100);
    for (const [id, cmd] of [
      [a, ca.command_id],
      [b, sentB],
    ] as const) {
      expect(await stored(id)).to.deep.equal(['sent']);
      expect((await log(id)).map((e) => [e.kind, e.commandId])).to.deep.equal([
        ['created', null],
        ['sent', cmd],
        ['sent', again.find((j) => String(j.id) === id)!.command_id],
      ]);
    }
  });

  it('a redelivered job keeps the time it was first sent', async () => {
    const id = await newJob();
    const job = await claimOne(id);
    const before = (await log(id))[1]!.at;
    await new Promise((r) => setTimeout(r, 20));
    await outbox.touchSent([id]);
    const rows = await controller.services.db.rows<{ sent_at: Date }>('SELECT sent_at FROM provisioning_jobs WHERE id = $1', [id]);
    expect(rows[0]!.sent_at.toISOString()).to.not.equal(before);
    const events = await log(id);
    expect(events.map((e) => [e.kind, e.commandId, e.at])).to.deep.equal([
      ['created', null, events[0]!.at],
      ['sent', job.command_id, before],
    ]);
    await outbox.touchSent([id]); // again: still one line for the attempt
    expect((await log(id)).filter((e) => e.kind === 'sent')).to.have.length(1);
  });

  it("finds a command's job by the job id it starts with, chunk ids too; other ids find nothing", async () => {
    const id = await newJob();
    const job = await claimOne(id);
    expect(await outbox.jobOfCommand(job.command_id, 'agt_a')).to.equal(id);
    expect(await outbox.jobOfCommand(`${job.command_id}.2`, 'agt_a')).to.equal(id);
    expect(await outbox.jobOfCommand(job.command_id, 'agt_b')).to.equal(undefined);
    for (const bad of ['', 'garbage', `j${id}-9-00000000`, 'j99999999999999999999-1-x', `x${job.command_id}`])
      expect(await outbox.jobOfCommand(bad, 'agt_a'), bad).to.equal(undefined);
  });

  it('jobs logged before the change (sent and applied as rows) are not told twice', async () => {
    const id = await newJob();
    const job = await claimOne(id);
    await jobs.addEvents([{ jobId: id, kind: 'sent', message: 'sent to agent agt_a (attempt 1, seq 1)', agentId: 'agt_a', commandId: job.command_id }]);
    await controller.services.db.exec(`UPDATE provisioning_jobs SET status = 'applied', completed_at = now() WHERE id = $1`, [id]);
    await jobs.addEvents([{ jobId: id, kind: 'applied', message: 'applied on the router', agentId: 'agt_a', commandId: job.command_id }]);
    expect((await log(id)).map((e) => e.kind)).to.deep.equal(['created', 'sent', 'applied']);
  });
});
