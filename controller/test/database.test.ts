import { expect } from 'chai';
import pg from 'pg';
import { startTestController } from './helpers/controller.ts';
import { freshDatabase } from './helpers/database.ts';

describe('database handle', function () {
  it('runs every transaction READ COMMITTED, even on a server whose default is SERIALIZABLE, without a SET in each', async () => {
    const url = await freshDatabase();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const name = (await admin.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
    await admin.query(`ALTER DATABASE "${name}" SET default_transaction_isolation = 'serializable'`);
    await admin.end();
    const controller = await startTestController({}, { databaseUrl: url });
    try {
      const { db } = controller.services;
      const seen = await db.transaction((tx) => db.rows<{ level: string }>("SELECT current_setting('transaction_isolation') AS level", [], tx));
      expect(seen[0]!.level).to.equal('read committed');
    } finally {
      await controller.stop();
    }
  });
});
