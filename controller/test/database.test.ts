import { expect } from 'chai';
import pg from 'pg';
import { OutboxRepository } from '../src/repositories/outbox.repository.ts';
import { ApiClient, expectStatus } from './helpers/client.ts';
import { ADMIN_PASSWORD, startTestController } from './helpers/controller.ts';
import { Fixtures } from './helpers/fixtures.ts';
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

describe('outbox: jobs claimed for a connection that closed before they were sent', function () {
  it('go back to the queue, only while still sent to that agent in that attempt', async () => {
    const controller = await startTestController();
    try {
      const { db } = controller.services;
      const api = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
      const fx = new Fixtures(api);
      const world = await fx.world();
      for (const [i, name] of ['sent.here', 'sent.elsewhere', 'acked'].entries())
        expectStatus(await api.post('/customers', fx.customerBody(world.pppoe.id as string, { ipAddress: `10.64.8.${i + 1}`, username: name })), 201);
      const jobs = await db.rows<{ id: string; username: string }>(
        `SELECT j.id::text, c.username FROM provisioning_jobs j JOIN customers c ON c.id = j.customer_id WHERE c.username IN ('sent.here', 'sent.elsewhere', 'acked')`,
      );
      const id = (u: string) => jobs.find((j) => j.username === u)!.id;
      await db.exec(`INSERT INTO agents (id, site_id, public_key) SELECT a, $1, 'x' FROM unnest($2::text[]) AS a`, [world.site.id, ['agt_here', 'agt_other']]);
      const mark = (job: string, status: string, agent: string) =>
        db.exec(`UPDATE provisioning_jobs SET status = $2, agent_id = $3, command_id = 'c' || id WHERE id = $1`, [job, status, agent]);
      await mark(id('sent.here'), 'sent', 'agt_here');
      await mark(id('sent.elsewhere'), 'sent', 'agt_other');
      await mark(id('acked'), 'applied', 'agt_here');
      const requeued = await new OutboxRepository(db).requeueUnsent(
        jobs.map((j) => `c${j.id}`),
        'agt_here',
      );
      expect(requeued).to.equal(1);
      const status = await db.rows<{ username: string; status: string }>(
        `SELECT c.username, j.status FROM provisioning_jobs j JOIN customers c ON c.id = j.customer_id WHERE c.username IN ('sent.here', 'sent.elsewhere', 'acked') ORDER BY c.username`,
      );
      expect(status).to.deep.equal([
        { username: 'acked', status: 'applied' },
        { username: 'sent.elsewhere', status: 'sent' },
        { username: 'sent.here', status: 'pending' },
      ]);
    } finally {
      await controller.stop();
    }
  });
});
