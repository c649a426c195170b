// A drifted router in its own process (as a real router is its own machine): 10 000 PPPoE secrets
// of which 4 % are missing, 4 % changed, plus 2 % extra marked entries; then 20 ms per reply.
import { RouterOsSim } from '@mtandao/routeros-sim';
import { benchCustomers, benchPlan, BENCH_N } from './bench-reconcile.ts';

const sim = new RouterOsSim({ username: 'bench', password: 'bench', sshPort: null });
const { apiPort } = await sim.start();
const store = sim.store;
store.add('/ppp/profile', { name: benchPlan.name, 'rate-limit': '5M/10M', 'local-address': '10.64.0.1', comment: `mtandao-plan:${benchPlan.planId}` });
const drift = { deleted: [] as number[], changed: [] as number[], extra: [] as string[] };
benchCustomers.forEach((c, i) => {
  if (i % 25 === 0) return void drift.deleted.push(i);
  const changed = i % 25 === 1;
  if (changed) drift.changed.push(i);
  store.add('/ppp/secret', {
    name: c.username,
    password: changed ? 'drifted' : c.password,
    service: 'pppoe',
    profile: benchPlan.name,
    'remote-address': c.ipAddress!,
    comment: `mtandao:${c.customerId}`,
  });
});
for (let i = 0; i < BENCH_N / 50; i++) {
  const name = `gone${i}`;
  store.add('/ppp/secret', { name, password: 'x', service: 'pppoe', profile: benchPlan.name, comment: `mtandao:${BENCH_N + 1000 + i}` });
  drift.extra.push(name);
}
sim.setLatency(Number(process.env.BENCH_RTT_MS ?? 20));
process.stdout.write(`${JSON.stringify({ apiPort, drift })}\n`);
process.on('SIGTERM', () => void sim.stop().then(() => process.exit(0)));
