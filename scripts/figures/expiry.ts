import type { Controller } from '../../controller/src/server.ts';
import { log, ms, Api, figures } from '../lib/bench-kit.ts';

/** Expiry sweep: 100 000 active customers, 1 % due (half of those renew from the balance, half expire). */
export async function benchExpiry(c: Controller, api: Api): Promise<void> {
  const total = 100_000;
  log(`expiry: ${total} customers, 1 % due`);
  await c.services.expiry.stop(); // the timer must not sweep before the measured sweep
  const site = await api.ok('POST', '/sites', { name: 'Expiry bench' });
  const router = await api.ok('POST', '/routers', { name: 'expiry-router', siteId: site.id });
  const plan = await api.ok('POST', '/plans', {
    name: 'Expiry bench plan',
    connectionType: 'hotspot',
    price: '50',
    downloadSpeed: '5M',
    uploadSpeed: '2M',
    validity: { count: 30, unit: 'days' },
    routerIds: [router.id],
    sharedUsers: 1,
  });
  // one statement: every 100th customer is past expiry, every 200th of all has the price on account;
  // the rest expire 4 to 34 days out (outside the reminder windows: their reminders are another figure)
  await c.services.db.exec(
    `INSERT INTO customers (connection_type, plan_id, full_name, phone, username, password_enc, account_number, status, expires_at, activated_at, balance_minor)
     SELECT 'hotspot', $1, 'Expiry Bench ' || i, '2547' || lpad((10000000 + i)::text, 8, '0'), 'exp-' || i, 'v1:x', 'EXP' || i, 'active',
            CASE WHEN i % 100 = 0 THEN now() - interval '5 seconds' ELSE now() + interval '4 days' + random() * interval '30 days' END,
            now() - interval '30 days', CASE WHEN i % 200 = 0 THEN 5000 ELSE 0 END
       FROM generate_series(1, $2::int) AS i`,
    [plan.id, total],
  );
  await c.services.db.exec('ANALYZE customers');
  if (process.env.BENCH_EXPLAIN) {
    // the plans of the due-customer scans, for whoever tunes them
    for (const sql of [
      `EXPLAIN ANALYZE SELECT c.id FROM customers c JOIN plans t ON t.id = COALESCE(c.next_plan_id, c.plan_id) WHERE c.status = 'active' AND c.expires_at <= now() AND t.price_minor > 0 AND c.balance_minor >= t.price_minor ORDER BY c.expires_at LIMIT 20000 FOR UPDATE OF c SKIP LOCKED`,
      `EXPLAIN ANALYZE SELECT c.id FROM customers c WHERE c.status = 'active' AND c.expires_at <= now() ORDER BY c.expires_at LIMIT 20000 FOR UPDATE SKIP LOCKED`,
    ])
      log((await c.services.db.rows<Record<string, string>>(sql)).map((r) => Object.values(r)[0]).join('\n'));
    const { ExpiryRepository } = await import('../../controller/src/repositories/expiry.repository.ts');
    const db = c.services.db;
    const explaining = {
      rows: async (sql: string, bind: unknown[], tx: unknown) => {
        log((await db.rows<Record<string, string>>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, bind, tx as never)).map((r) => Object.values(r)[0]).join('\n'));
        return [];
      },
      exec: db.exec.bind(db),
    };
    const repo = new ExpiryRepository(explaining as never);
    await db
      .transaction(async (tx) => {
        await repo.autoRenew(20000, 400, new Date(Date.now() + 3600_000), tx);
        await repo.expireDue(0, 20000, new Date(Date.now() + 3600_000), tx);
        throw new Error('rollback');
      })
      .catch(() => undefined);
  }
  const t0 = performance.now();
  const r = await c.services.expiry.sweep();
  const elapsed = performance.now() - t0;
  const ok = r.renewed + r.expired === total / 100;
  figures.push({
    figure: 'expiry sweep, 100 000 customers with 1 % due',
    value: ms(elapsed),
    target: '≤ 2 s',
    pass: elapsed <= 2000 && ok,
    detail: { customers: total, ...r },
  });
}
