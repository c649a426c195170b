/** Small builders of desired state for reconcile tests. */
import type { CommandType, CustomerSpec, PlanSpec, TypedEnvelope } from '@mtandao/protocol';

export const pppoePlan = (over: Partial<PlanSpec> = {}): PlanSpec => ({
  planId: 'p-home',
  name: 'Home 10M',
  connectionType: 'pppoe',
  uploadSpeed: '5M',
  downloadSpeed: '10M',
  localAddress: '10.64.0.1',
  ...over,
});

export const hotspotPlan = (over: Partial<PlanSpec> = {}): PlanSpec => ({
  planId: 'p-day',
  name: 'Day pass',
  connectionType: 'hotspot',
  uploadSpeed: '1M',
  downloadSpeed: '2M',
  sharedUsers: 2,
  dataLimitBytes: 2_000_000_000,
  ...over,
});

export const staticPlan = (over: Partial<PlanSpec> = {}): PlanSpec => ({
  planId: 'p-biz',
  name: 'Business 20M',
  connectionType: 'static',
  uploadSpeed: '10M',
  downloadSpeed: '20M',
  ...over,
});

/** A customer on `plan`; the connection type follows the plan. */
export function customer(id: string, plan: PlanSpec, over: Partial<CustomerSpec> = {}): CustomerSpec {
  return {
    customerId: id,
    connectionType: plan.connectionType,
    username: `user-${id}`,
    password: `pw-${id}`,
    status: 'active',
    ...(plan.connectionType === 'hotspot' ? {} : { ipAddress: `10.64.1.${Number(id.replace(/\D/g, '')) % 250 || 1}` }),
    plan,
    ...over,
  };
}

let seq = 0;
/** A command envelope as the agent's channel hands it over after verification. */
export function envelope<T extends CommandType>(type: T, payload: TypedEnvelope<T>['payload']): TypedEnvelope<T> {
  seq++;
  const now = Date.now();
  return {
    v: 1,
    id: `cmd-${seq}`,
    agentId: 'agent-1',
    seq,
    issuedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 60_000).toISOString(),
    type,
    payload,
  } as TypedEnvelope<T>;
}
