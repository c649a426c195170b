import type { ClaimedJob } from '../../src/repositories/outbox.repository.ts';

/** A claimed `customer.apply` job of router 1 as the outbox hands it to delivery: its customer is its id. */
export const claimedJob = (id: string, seq: number): ClaimedJob => ({
  id,
  router_id: '1',
  customer_id: id,
  plan_id: null,
  type: 'customer.apply',
  payload: {},
  attempts: 1,
  expires_at: new Date(Date.now() + 60_000),
  command_id: `j${id}-1-abcdef12`,
  seq: String(seq),
  desired: null,
});
