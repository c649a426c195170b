import type { CustomerView, PlanView } from '@mtandao/protocol/api';
import { expectStatus } from '../../../controller/test/helpers/client.ts';
import { person, run } from './run.ts';
import { eventually } from './stack.ts';

let ipSeq = 0;
/** An active PPPoE customer made through the API, its first job applied on the router. */
export async function activeCustomer(stem: string): Promise<CustomerView> {
  const { api, world } = run.stack;
  const c = expectStatus(
    await api.post<CustomerView>('/customers', {
      connectionType: 'pppoe',
      planId: world.plans.pppoe.id,
      networkId: world.pppoeNetwork.id,
      ipAddress: `10.64.120.${++ipSeq + 10}`,
      ...person(stem),
      password: 'secret-pw-1',
      payment: { method: 'cash' },
      autoActivate: true,
    }),
    201,
  );
  await eventually(
    async () => (expectStatus(await api.get<CustomerView>(`/customers/${c.id}`), 200).latestJob?.status === 'applied' ? true : undefined),
    'the first job applied',
    20_000,
  );
  return c;
}

/**
 * The Hotspot plan. The world starts without one, so that "No plans appear" can be seen whatever
 * order the tests run in: that test creates it through the UI, any other test through the API.
 */
export async function hotspotPlan(): Promise<PlanView> {
  const { api, world } = run.stack;
  const found = expectStatus(await api.get<{ items: PlanView[] }>('/plans?connectionType=hotspot'), 200).items[0];
  return (
    found ??
    expectStatus(
      await api.post<PlanView>('/plans', {
        name: 'Daily 5 Mbps',
        connectionType: 'hotspot',
        price: '50',
        downloadSpeed: '5M',
        uploadSpeed: '2M',
        validity: { count: 1, unit: 'days' },
        sharedUsers: 1,
        routerIds: [world.router.id],
      }),
      201,
    )
  );
}
