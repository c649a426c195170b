// Figure: the overview query (GET /reports/overview) on 100 000 customers and 1 000 000 payments,
// in a database of its own so the other figures' rows do not count. Prints its figure as JSON on
// the last line of stdout (bench.ts runs it in a process of its own).
import { benchDatabase, dropBenchDatabase, startBenchController } from './lib/bench-controller.ts';
import { pppoePlanBody } from './lib/bench-api.ts';

const CUSTOMERS = 100_000;
const PAYMENTS = 1_000_000;
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

const databaseUrl = await benchDatabase('overview');
const c = await startBenchController(databaseUrl, 'overview');
const db = c.services.db;
try {
  const login = await fetch(`${c.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'bench-admin-password' }),
  });
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const post = async (p: string, body: unknown) =>
    (await (
      await fetch(`${c.url}/api/v1${p}`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify(body) })
    ).json()) as Record<string, string>;
  const site = await post('/sites', { name: 'Overview bench' });
  const router = await post('/routers', { name: 'overview-router', siteId: site.id });
  const pool = await post('/pools', { name: 'overview pool', routerId: router.id, networks: ['10.96.0.0/16'], gateway: '10.96.0.1' });
  const plan = await post('/plans', pppoePlanBody('Overview plan', pool.id));

  log(`overview: ${CUSTOMERS} customers, ${PAYMENTS} payments over a year, 100 000 jobs`);
  const t0 = performance.now();
  // 70 % active (expiring over the next 30 days), 15 % expired, 10 % inactive, 5 % suspended; one in 12 owes
  await db.exec(
    `INSERT INTO customers (connection_type, plan_id, full_name, phone, username, password_enc, account_number, status, expires_at, balance_minor)
     SELECT 'pppoe', $1, 'Overview ' || g, '2547' || lpad((g % 100000000)::text, 8, '0'), 'ov' || g, 'v1:x', 'ov' || g,
            CASE WHEN g % 20 < 14 THEN 'active' WHEN g % 20 < 17 THEN 'expired' WHEN g % 20 < 19 THEN 'inactive' ELSE 'suspended' END,
            CASE WHEN g % 20 < 17 THEN now() + ((g % 20 < 14)::int * 2 - 1) * (random() * interval '30 days') END,
            CASE WHEN g % 12 = 0 THEN -50000 ELSE 0 END
       FROM generate_series(1, $2) g`,
    [plan.id, CUSTOMERS],
  );
  const first = Number((await db.rows<{ id: string }>('SELECT min(id) AS id FROM customers'))[0]!.id);
  await db.exec(
    `INSERT INTO ledger_entries (customer_id, customer_username, side, kind, method, amount_minor, balance_after_minor, receipt_number, staff_user_id, created_at)
     SELECT $1 + (g % $2), 'ov' || (g % $2), 'credit', 'payment', (ARRAY['cash','mpesa','mpesa','mpesa','bank','cheque'])[1 + g % 6],
            (500 + (g % 26) * 100) * 100, 0, 'B' || lpad(g::text, 8, '0'), CASE WHEN g % 6 IN (1, 2, 3) THEN NULL ELSE 1 END,
            now() - random() * interval '365 days'
       FROM generate_series(1, $3) g`,
    [first, CUSTOMERS, PAYMENTS],
  );
  // a thousand reversals, as a year of mistakes
  await db.exec(
    `INSERT INTO ledger_entries (customer_id, customer_username, side, kind, amount_minor, balance_after_minor, reverses_id, staff_user_id, note, created_at)
     SELECT customer_id, customer_username, 'charge', 'reversal', amount_minor, 0, id, 1, 'bench', created_at + interval '1 hour'
       FROM ledger_entries WHERE kind = 'payment' ORDER BY id LIMIT 1000`,
  );
  await db.exec(
    `INSERT INTO provisioning_jobs (router_id, customer_id, type, reason, status, expires_at, created_at, updated_at)
     SELECT $1, $2 + (g % $3), 'customer.apply', 'bench', CASE WHEN g % 500 = 0 THEN 'failed' WHEN g % 200 = 0 THEN 'pending' ELSE 'applied' END,
            now() + interval '1 day', now() - random() * interval '30 days', now() - random() * interval '30 days'
       FROM generate_series(1, 100000) g`,
    [router.id, first, CUSTOMERS],
  );
  await db.exec(
    `INSERT INTO customer_daily_counts (day, total, active, expired, suspended, inactive)
     SELECT (now() AT TIME ZONE $1)::date - d, 100000, 70000 - d * 50, 15000, 5000, 10000 FROM generate_series(1, 29) d ON CONFLICT DO NOTHING`,
    [c.services.config.timezone],
  );
  for (const t of ['customers', 'ledger_entries', 'provisioning_jobs', 'customer_daily_counts']) await db.exec(`VACUUM ANALYZE ${t}`);
  log(`overview: filled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const once = async () => {
    const start = performance.now();
    const res = await fetch(`${c.url}/api/v1/reports/overview`, { headers: { cookie } });
    const body = (await res.json()) as { customers: { total: number }; revenue: { month: string } };
    if (res.status !== 200 || body.customers.total !== CUSTOMERS) throw new Error(`overview answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
    return performance.now() - start;
  };
  for (let i = 0; i < 5; i++) await once();
  const times: number[] = [];
  for (let i = 0; i < 40; i++) times.push(await once());
  const median = quantile(times, 0.5);
  const payments = Number((await db.rows<{ n: string }>(`SELECT count(*) AS n FROM ledger_entries WHERE kind = 'payment'`))[0]!.n);
  const figure = {
    figure: 'overview query, 100 000 customers and 1 000 000 payments',
    value: `${median.toFixed(2)} ms`,
    target: '≤ 200 ms',
    pass: median <= 200,
    detail: {
      customers: CUSTOMERS,
      payments,
      p95: `${quantile(times, 0.95).toFixed(2)} ms`,
      requests: times.length,
      measured: 'GET /api/v1/reports/overview over HTTP, median',
    },
  };
  process.stdout.write(`${JSON.stringify([figure])}\n`);
} finally {
  await c.stop();
  if (!process.env.BENCH_KEEP_DB) await dropBenchDatabase(databaseUrl);
}
process.exit(0);
