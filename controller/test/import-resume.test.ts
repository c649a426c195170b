import { expect } from 'chai';
import { ApiClient, expectStatus } from './helpers/client.ts';
import { ADMIN_PASSWORD, startTestController } from './helpers/controller.ts';
import { freshDatabase } from './helpers/database.ts';
import { Fixtures } from './helpers/fixtures.ts';
import { spawnCrashingController } from './helpers/spawn-controller.ts';

const HEADER = 'full_name,phone,username,password,plan_name,connection_type,email,ip_address,account_number';

describe('An import its controller left unfinished (a crash, a restart)', function () {
  this.timeout(120_000);

  it('is taken over once its heartbeat is old, and every row is written exactly once', async () => {
    const databaseUrl = await freshDatabase();
    let second: Awaited<ReturnType<typeof startTestController>> | undefined;
    // this controller dies as the import's second batch of 1 000 rows begins
    const { child, url, exited } = await spawnCrashingController('import-crash-controller.ts', databaseUrl);
    try {
      const first = await new ApiClient(url).login('admin', ADMIN_PASSWORD);
      const world = await new Fixtures(first).world({ pppoeNetworks: ['10.91.0.0/20'] });
      const rows = Array.from({ length: 1500 }, (_, i) => `Guest ${i},07${String(20_000_000 + i)},guest${i},pw${i},${world.pppoe.name as string},pppoe,,,`);
      const file = `${[HEADER, ...rows].join('\r\n')}\r\n`;
      const dry = expectStatus(await first.request<{ id: string; valid: number }>('POST', '/imports/customers', file, { 'content-type': 'text/csv' }), 201);
      expect(dry.valid).to.equal(1500);
      expectStatus(await first.post(`/imports/${dry.id}/commit`), 202);
      expect(await exited).to.equal('SIGKILL');

      second = await startTestController({}, { databaseUrl });
      const db = second.services.db;
      const state = async () =>
        (
          await db.rows<{ status: string; created: number; n: string }>(
            `SELECT status, created, (SELECT count(*) FROM customers) AS n FROM imports WHERE id = $1`,
            [dry.id],
          )
        )[0]!;
      const left = await state();
      expect([left.status, left.created, Number(left.n)], 'the first batch was written, then the controller died').to.deep.equal(['running', 1000, 1000]);
      // alive a moment ago: not taken over
      expect(await second.services.imports.adoptStale()).to.deep.equal([]);
      // silent for two minutes: taken over, by one controller only
      await db.exec(`UPDATE imports SET heartbeat_at = now() - interval '2 minutes' WHERE id = $1`, [dry.id]);
      const [taken, again] = await Promise.all([second.services.imports.adoptStale(), second.services.imports.adoptStale()]);
      expect([...taken, ...again]).to.deep.equal([dry.id]);
      await second.services.imports.running.get(dry.id);

      const done = await state();
      expect([done.status, done.created, Number(done.n)]).to.deep.equal(['done', 1500, 1500]);
      const twice = await db.rows(`SELECT username FROM customers GROUP BY username HAVING count(*) > 1`);
      expect(twice).to.deep.equal([]);
      const finished = await db.rows<{ username: string }>(`SELECT username FROM audit_log WHERE action = 'import.finish' AND entity_id = $1`, [dry.id]);
      expect(finished.map((r) => r.username)).to.deep.equal(['admin']);
      const api = await new ApiClient(second.url).login('admin', ADMIN_PASSWORD);
      expect(expectStatus(await api.get<{ status: string; created: number }>(`/imports/${dry.id}`), 200)).to.include({ status: 'done', created: 1500 });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await second?.stop();
    }
  });
});
