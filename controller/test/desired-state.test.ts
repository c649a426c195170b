import { expect } from 'chai';
import { DesiredStateBuilder } from '../src/gateway/desired-state.ts';
import type { CustomersRepository, DesiredCustomerRow } from '../src/repositories/customers.repository.ts';
import type { ClaimedJob } from '../src/repositories/outbox.repository.ts';
import type { PlansRepository } from '../src/repositories/plans.repository.ts';

const desired: DesiredCustomerRow = {
  customer_id: '7',
  router_id: '3',
  id: '7',
  connection_type: 'pppoe',
  username: 'achieng',
  password_enc: 'sealed',
  status: 'active',
  ip_address: '10.64.0.9',
  plan_id: '2',
  plan_name: 'Home 10M',
  plan_type: 'pppoe',
  download_speed: '10M',
  upload_speed: '5M',
  shared_users: null,
  data_limit_bytes: null,
  gateway: '10.64.0.1',
};
const job = (over: Partial<ClaimedJob> = {}): ClaimedJob => ({
  id: '41',
  router_id: '3',
  customer_id: '7',
  plan_id: null,
  type: 'customer.apply',
  payload: { username: 'achieng', fresh: true },
  attempts: 1,
  expires_at: new Date(Date.now() + 60_000),
  command_id: 'j41-1-abcdef12',
  seq: '9',
  desired,
  ...over,
});
const names = new Map([['3', 'core-1']]);
// the claim hands the rows over: nothing may be read from the repositories
const untouchable = new Proxy(
  {},
  {
    get: () => {
      throw new Error('the builder read the database');
    },
  },
);
const builder = new DesiredStateBuilder(untouchable as CustomersRepository, untouchable as PlansRepository, () => 'pw');

describe('desired state of a claimed customer.apply', () => {
  it('is built from the row the claim read, without another query', async () => {
    const out = (await builder.build([job()], names, 2)).get('41');
    expect(out).to.have.nested.property('commands[0].payload.customer.password', 'pw');
    expect(out).to.have.nested.property('commands[0].payload.customer.plan.localAddress', '10.64.0.1');
  });

  it("marks a customer's first job fresh only for agents that know the field (capability 2)", async () => {
    const payload = async (capability: number, j = job()) =>
      ((await builder.build([j], names, capability)).get('41') as { commands: { payload: Record<string, unknown> }[] }).commands[0]!.payload;
    expect(await payload(2)).to.include({ fresh: true });
    expect(await payload(1)).to.not.have.property('fresh');
    expect(await payload(2, job({ payload: { username: 'achieng' } }))).to.not.have.property('fresh');
  });

  it('skips a job whose customer is gone (the claim found no row)', async () => {
    expect((await builder.build([job({ desired: null })], names, 2)).get('41')).to.have.property('skip');
  });
});
