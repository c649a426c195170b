import { expect } from 'chai';
import net from 'node:net';
import pg from 'pg';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../src/db/embedded.ts';

// PGlite is one backend behind the embedded database's port: what one connection does must not
// leak into another's (an extended-protocol sequence, a transaction), and what a connection leaves
// open when it goes away must not block the others.
describe('the embedded database served to several connections', () => {
  let db: EmbeddedDatabase;
  const clients: pg.Client[] = [];
  const client = async (): Promise<pg.Client> => {
    const c = new pg.Client({ connectionString: db.url });
    c.on('error', () => undefined);
    await c.connect();
    clients.push(c);
    return c;
  };

  before(async function () {
    this.timeout(180_000);
    db = await startEmbeddedDatabase({ maxConnections: 6 });
    const c = await client();
    await c.query('CREATE TABLE wire_t (id int PRIMARY KEY, v text)');
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.end().catch(() => undefined)));
    const c = await client();
    await c.query('DELETE FROM wire_t');
  });
  after(async () => {
    await Promise.all(clients.splice(0).map((c) => c.end().catch(() => undefined)));
    await db?.stop();
  });

  it('answers concurrent extended-protocol queries of many connections each with its own statement and parameters', async () => {
    const cs = await Promise.all([1, 2, 3, 4, 5].map(() => client()));
    // each connection one query after another, the five at once
    const answers = (
      await Promise.all(
        cs.map(async (c, k) => {
          const out = [];
          for (let i = 0; i < 40; i++) {
            const r = await c.query<{ n: number; k: string }>(`SELECT $1::int * ${k + 2} AS n, $2::text AS k`, [i, `c${k}`]);
            out.push({ k, i, row: r.rows[0]! });
          }
          return out;
        }),
      )
    ).flat();
    expect(answers).to.have.length(200);
    for (const a of answers) expect(a.row, `connection ${a.k} query ${a.i}`).to.deep.equal({ n: a.i * (a.k + 2), k: `c${a.k}` });
  });

  it("keeps another connection's statements out of an open transaction until it commits", async () => {
    const [a, b] = [await client(), await client()];
    await a.query('BEGIN');
    await a.query(`INSERT INTO wire_t VALUES (1, 'a')`);
    const order: string[] = [];
    // b waits for the backend: its statement must not run inside a's transaction
    const seen = b.query<{ n: string }>('SELECT count(*) AS n FROM wire_t').then((r) => {
      order.push('b read');
      return r.rows[0]!.n;
    });
    await new Promise((r) => setTimeout(r, 100));
    await a.query(`INSERT INTO wire_t VALUES (2, 'a')`);
    order.push('a commit');
    await a.query('COMMIT');
    expect(await seen).to.equal('2');
    expect(order).to.deep.equal(['a commit', 'b read']);
  });

  it('rolls back the transaction of a connection that goes away and lets the others go on', async () => {
    const [a, b] = [await client(), await client()];
    await a.query('BEGIN');
    await a.query(`INSERT INTO wire_t VALUES (3, 'lost')`);
    const waiting = b.query<{ n: string }>('SELECT count(*) AS n FROM wire_t');
    (a as unknown as { connection: { stream: net.Socket } }).connection.stream.destroy();
    expect((await waiting).rows[0]!.n).to.equal('0');
    await b.query(`INSERT INTO wire_t VALUES (3, 'kept')`);
    expect((await b.query('SELECT v FROM wire_t WHERE id = 3')).rows).to.deep.equal([{ v: 'kept' }]);
  });

  it('carries messages larger than a socket read, and answers larger than one', async () => {
    const c = await client();
    const big = 'x'.repeat(3_000_000);
    await c.query('INSERT INTO wire_t VALUES ($1, $2)', [4, big]);
    const { rows } = await c.query<{ v: string }>('SELECT v FROM wire_t WHERE id = 4');
    expect(rows[0]!.v.length).to.equal(big.length);
    expect(rows[0]!.v === big).to.equal(true);
  });

  it('goes on after an error inside a sequence, on the same connection and the others', async () => {
    const [a, b] = [await client(), await client()];
    const failing = a.query('SELECT 1/0').catch((err: Error) => err.message);
    const fine = b.query<{ n: number }>('SELECT $1::int AS n', [7]);
    expect(await failing).to.match(/division by zero/);
    expect((await fine).rows[0]!.n).to.equal(7);
    expect((await a.query<{ n: number }>('SELECT $1::int AS n', [8])).rows[0]!.n).to.equal(8);
    // a failed transaction stays failed until its rollback, then the connection is usable again
    await a.query('BEGIN');
    expect(await a.query(`INSERT INTO wire_t VALUES (5, NULL), (5, NULL)`).catch((err: Error) => err.message)).to.match(/duplicate key/);
    expect(await a.query('SELECT 1').catch((err: Error) => err.message)).to.match(/current transaction is aborted/);
    await a.query('ROLLBACK');
    expect((await b.query<{ n: string }>('SELECT count(*) AS n FROM wire_t')).rows[0]!.n).to.equal('0');
  });

  it('prepares a statement sent unnamed again and again, once, and answers it as before', async () => {
    const [a, b] = [await client(), await client()];
    const text = 'SELECT $1::int + 1 AS n, $2::text AS t';
    for (let i = 0; i < 6; i++) expect((await (i % 2 ? a : b).query(text, [i, `v${i}`])).rows).to.deep.equal([{ n: i + 1, t: `v${i}` }]);
    const kept = await a.query<{ name: string }>('SELECT name FROM pg_prepared_statements WHERE statement = $1', [text]);
    expect(kept.rows).to.have.length(1);
    expect(kept.rows[0]!.name).to.match(/^mtandao_kept_/);
    // its errors are still answered as errors, and the connection goes on
    expect(await a.query(text, ['x', 'y']).catch((err: Error) => err.message)).to.match(/invalid input syntax for type integer/);
    expect((await a.query(text, [41, 'z'])).rows).to.deep.equal([{ n: 42, t: 'z' }]);
  });

  it('forgets kept statements after a schema change: they answer with the new columns', async () => {
    const c = await client();
    await c.query(`INSERT INTO wire_t VALUES (6, 'six')`);
    const text = 'SELECT * FROM wire_t WHERE id = $1';
    for (let i = 0; i < 3; i++) expect((await c.query(text, [6])).rows).to.deep.equal([{ id: 6, v: 'six' }]);
    await c.query('ALTER TABLE wire_t ADD COLUMN w int');
    try {
      expect((await c.query(text, [6])).rows).to.deep.equal([{ id: 6, v: 'six', w: null }]);
    } finally {
      await c.query('ALTER TABLE wire_t DROP COLUMN w');
    }
    expect((await c.query(text, [6])).rows).to.deep.equal([{ id: 6, v: 'six' }]);
  });

  it('refuses connections beyond its limit, and frees a place when one ends', async () => {
    // afterEach's client and these five fill the six places
    const cs = await Promise.all([1, 2, 3, 4, 5].map(() => client()));
    const extra = new pg.Client({ connectionString: db.url });
    expect(
      await extra.connect().then(
        () => 'connected',
        (err: Error) => err.message,
      ),
    ).to.match(/too many clients/);
    await cs[0]!.end();
    clients.splice(clients.indexOf(cs[0]!), 1);
    await new Promise((r) => setTimeout(r, 50));
    const again = await client();
    expect((await again.query<{ n: number }>('SELECT 1 AS n')).rows[0]!.n).to.equal(1);
  });
});
