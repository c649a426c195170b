import { expect } from 'chai';
import { CONTEXTS_SQL } from '../src/repositories/registration.repository.ts';
import { startTestController } from './helpers/controller.ts';

// Add Customer's context read runs as a prepared statement whose cached generic plan serves every
// batch: that plan must probe the customers' unique indexes, never read the whole table.
describe("Add Customer's context read, as PostgreSQL plans it once for every batch", () => {
  let controller: Awaited<ReturnType<typeof startTestController>>;
  before(async () => {
    controller = await startTestController();
  });
  after(async () => controller.stop());

  it('probes the unique indexes for taken names, with no scan of the customers table', async () => {
    const db = controller.services.db;
    const plan = await db.transaction(async (tx) => {
      await db.exec('SET LOCAL plan_cache_mode = force_generic_plan', [], tx);
      await db.exec(`PREPARE add_contexts_plan(json) AS ${CONTEXTS_SQL}`, [], tx);
      const rows = await db.rows<Record<string, string>>(
        `EXPLAIN EXECUTE add_contexts_plan('[{"ord":0,"plan_id":1,"username":"a","additional":"b"}]')`,
        [],
        tx,
      );
      await db.exec('DEALLOCATE add_contexts_plan', [], tx);
      return rows.map((r) => Object.values(r)[0]).join('\n');
    });
    expect(plan).to.match(/customers_username_key/);
    expect(plan).to.match(/customers_account_key/);
    expect(plan).to.match(/customers_additional_account_key/);
    expect(plan).to.not.match(/Seq Scan on customers/);
  });
});
