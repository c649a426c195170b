import { expect } from 'chai';
import { uniqueViolation } from '../src/db/database.ts';
import { freshDatabase } from './helpers/database.ts';
import pg from 'pg';

// Receipt numbers and reversals are unique through partial indexes (migration 0013: only payments
// and reversals are indexed); they must refuse a second one as the constraints did, by the same name.
describe('ledger: unique receipt numbers and one reversal per entry', function () {
  it('refuses a duplicate by the constraint name the services read; lines without either never collide', async () => {
    const c = new pg.Client({ connectionString: await freshDatabase() });
    await c.connect();
    try {
      const line = (kind: string, side: string, extra: { method?: string; receipt?: string; reverses?: string } = {}) =>
        c.query<{ id: string }>(
          `INSERT INTO ledger_entries (customer_username, side, kind, method, amount_minor, balance_after_minor, receipt_number, reverses_id)
           VALUES ('u', $1, $2, $3, 100, 0, $4, $5) RETURNING id`,
          [side, kind, extra.method ?? null, extra.receipt ?? null, extra.reverses ?? null],
        );
      const refused = async (p: Promise<unknown>) => {
        try {
          await p;
        } catch (err) {
          return uniqueViolation(err);
        }
        return 'accepted';
      };
      for (let i = 0; i < 3; i++) await line('plan', 'charge');
      const paid = (await line('payment', 'credit', { method: 'cash', receipt: 'R000001' })).rows[0]!.id;
      expect(await refused(line('payment', 'credit', { method: 'cash', receipt: 'R000001' }))).to.equal('ledger_entries_receipt_number_key');
      await line('reversal', 'charge', { reverses: paid });
      expect(await refused(line('reversal', 'charge', { reverses: paid }))).to.equal('ledger_entries_reverses_id_key');
      const plans = await c.query<{ indexdef: string }>(
        `SELECT indexdef FROM pg_indexes WHERE indexname IN ('ledger_entries_receipt_number_key', 'ledger_entries_reverses_id_key')`,
      );
      expect(plans.rows.map((r) => r.indexdef).every((d) => d.includes('IS NOT NULL'))).to.equal(true);
    } finally {
      await c.end();
    }
  });
});
