import { expect } from 'chai';
import pg from 'pg';
import type { Sequelize } from 'sequelize';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../src/db/embedded.ts';
import { createSequelize } from '../src/db/sequelize.ts';
import { createLogger } from '../src/logger.ts';

/**
 * Migration 0004 turns today's payments and debts into ledger entries with the balances they had.
 * Runs 0001 on an empty database, writes rows the old code wrote, then runs 0004.
 */
describe('migration 0004: payments become ledger entries, balances unchanged', () => {
  let embedded: EmbeddedDatabase | undefined;
  let url: string;
  let dbName: string | undefined;
  let sequelize: Sequelize;
  const q = async <T = Record<string, unknown>>(sql: string): Promise<T[]> => (await sequelize.query(sql, { raw: true }))[0] as T[];

  before(async function () {
    this.timeout(120_000);
    const base = process.env.DATABASE_URL;
    if (base) {
      dbName = `mtandao_mig_${process.pid}`;
      const admin = new pg.Client({ connectionString: Object.assign(new URL(base), { pathname: '/postgres' }).toString() });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName}`);
      await admin.query(`CREATE DATABASE ${dbName}`);
      await admin.end();
      url = Object.assign(new URL(base), { pathname: `/${dbName}` }).toString();
    } else {
      embedded = await startEmbeddedDatabase({ maxConnections: 4 });
      url = embedded.url;
    }
    sequelize = createSequelize(url, createLogger('silent'), { poolMax: 1 });
    await ((await import('../src/db/migrations/0001-initial.ts')) as { up(s: Sequelize): Promise<void> }).up(sequelize);
    await q(`
      INSERT INTO users (id, username, password_hash, role) VALUES (1, 'cashier', 'x', 'staff');
      INSERT INTO plans (id, name, connection_type, price_minor, download_speed, upload_speed, validity_count, validity_unit) VALUES (1, 'Home 10M', 'hotspot', 150000, '10M', '5M', 30, 'days');
      INSERT INTO customers (id, connection_type, plan_id, full_name, phone, username, password_enc, account_number, status, balance_minor) VALUES
        (1, 'hotspot', 1, 'A', '254700000001', 'alice', 'x', 'alice', 'active', -169900),
        (2, 'hotspot', 1, 'B', '254700000002', 'bob', 'x', 'bob', 'active', -74950),
        (3, 'hotspot', 1, 'C', '254700000003', 'carol', 'x', 'carol', 'active', 30000),
        (4, 'hotspot', 1, 'D', '254700000004', 'dan', 'x', 'dan', 'inactive', 0);
      INSERT INTO payments (customer_id, method, kind, amount_minor, reference, staff_user_id, created_at) VALUES
        (1, 'cash', 'plan', 150000, NULL, 1, '2026-11-01T10:00:00Z'),
        (1, 'mpesa', 'plan', 100, 'QK1', 1, '2026-11-02T10:00:00Z'),
        (1, NULL, 'debt', 20000, NULL, 1, '2026-11-03T10:00:00Z'),
        (2, 'mpesa', 'installation', 200000, 'QB1', 1, '2026-11-04T10:00:00Z'),
        (2, 'mpesa', 'plan', 75050, 'QB1', 1, '2026-11-04T10:00:00Z');
    `);
    await ((await import('../src/db/migrations/0004-ledger.ts')) as { up(s: Sequelize): Promise<void> }).up(sequelize);
  });

  after(async () => {
    await sequelize?.close();
    await embedded?.stop();
    if (dbName) {
      const admin = new pg.Client({ connectionString: Object.assign(new URL(process.env.DATABASE_URL!), { pathname: '/postgres' }).toString() });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.end();
    }
  });

  const ledger = (id: number) =>
    q<{ side: string; kind: string; method: string | null; amount_minor: string; balance_after_minor: string; receipt_number: string | null }>(
      `SELECT side, kind, method, amount_minor::text, balance_after_minor::text, receipt_number FROM ledger_entries WHERE customer_id = ${id} ORDER BY id`,
    );

  it('a plan payment is a payment and the period charge it paid for; a debt a charge', async () => {
    const rows = await ledger(1);
    expect(rows.map((r) => [r.side, r.kind, r.method, r.amount_minor, r.balance_after_minor])).to.deep.equal([
      ['credit', 'payment', 'cash', '150000', '150000'],
      ['charge', 'plan', null, '150000', '0'],
      ['credit', 'payment', 'mpesa', '100', '100'],
      ['charge', 'plan', null, '150000', '-149900'],
      ['charge', 'debt', null, '20000', '-169900'],
    ]);
    expect(rows.filter((r) => r.kind === 'payment').every((r) => /^R\d{6}$/.test(r.receipt_number ?? ''))).to.equal(true);
  });

  it('an installation payment is the fee charged and paid; the last balance is the cached one', async () => {
    const rows = await ledger(2);
    expect(rows.map((r) => [r.side, r.kind, r.amount_minor])).to.deep.equal([
      ['charge', 'installation', '200000'],
      ['credit', 'payment', '200000'],
      ['credit', 'payment', '75050'],
      ['charge', 'plan', '150000'],
    ]);
    expect(rows.at(-1)!.balance_after_minor).to.equal('-74950');
  });

  it('a balance without payments is carried over as one entry; a zero balance writes nothing', async () => {
    expect((await ledger(3)).map((r) => [r.side, r.kind, r.amount_minor, r.balance_after_minor])).to.deep.equal([['credit', 'adjustment', '30000', '30000']]);
    expect(await ledger(4)).to.deep.equal([]);
  });

  it('every balance equals the sum of its entries, and the payments table is gone', async () => {
    const off = await q(
      `SELECT c.id FROM customers c WHERE c.balance_minor <> COALESCE((SELECT sum(CASE WHEN side = 'credit' THEN amount_minor ELSE -amount_minor END) FROM ledger_entries WHERE customer_id = c.id), 0)`,
    );
    expect(off).to.deep.equal([]);
    expect(await q(`SELECT 1 FROM pg_tables WHERE tablename = 'payments'`)).to.deep.equal([]);
  });
});
