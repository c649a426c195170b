import { expect } from 'chai';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../src/db/embedded.ts';

/** Every file and directory below `dir` with its permission bits. */
function modes(dir: string): { path: string; dir: boolean; mode: number }[] {
  const out = [{ path: dir, dir: true, mode: statSync(dir).mode & 0o777 }];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...modes(p));
    else if (e.isFile()) out.push({ path: p, dir: false, mode: statSync(p).mode & 0o777 });
  }
  return out;
}

async function connects(url: string): Promise<true | string> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await c.end().catch(() => undefined);
  }
}

describe('the embedded database', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'mtandao-embedded-'));
  const dir = path.join(root, 'pgdata');
  let db: EmbeddedDatabase | undefined;
  after(async () => db?.stop());

  it('asks for its generated password: none or a wrong one is refused', async function () {
    this.timeout(180_000); // a new PGlite data directory takes a while to initialise
    db = await startEmbeddedDatabase({ dir });
    const url = new URL(db.url);
    expect(url.password).to.have.length.above(20);
    expect(await connects(db.url)).to.equal(true);
    const none = new URL(db.url);
    none.password = '';
    expect(await connects(none.toString())).to.not.equal(true);
    const wrong = new URL(db.url);
    wrong.password = 'postgres';
    expect(await connects(wrong.toString())).to.match(/password authentication failed/);
    const otherUser = new URL(db.url);
    otherUser.username = 'admin';
    otherUser.password = 'admin';
    expect(await connects(otherUser.toString())).to.match(/password authentication failed/);
    // the password is kept 0600 beside the data and used again
    const file = `${dir}.password`;
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    expect(readFileSync(file, 'utf8').trim()).to.equal(decodeURIComponent(url.password));
  });

  it('serves the controller on a Unix socket in a private directory, behind the same password, and other tools on its port', async () => {
    const socketDir = new URL(db!.url).searchParams.get('host')!;
    expect(socketDir).to.match(/^\//);
    expect(statSync(socketDir).mode & 0o777).to.equal(0o700);
    expect(await connects(db!.url)).to.equal(true);
    const wrong = new URL(db!.url);
    wrong.password = 'postgres';
    expect(await connects(wrong.toString())).to.match(/password authentication failed/);
    expect(new URL(db!.tcpUrl).hostname).to.equal('127.0.0.1');
    expect(await connects(db!.tcpUrl)).to.equal(true);
  });

  it('keeps its files 0600 and its directories 0700, also ones made before', async function () {
    this.timeout(180_000);
    const c = new pg.Client({ connectionString: db!.url });
    await c.connect();
    await c.query('CREATE TABLE secrets (v text)');
    await c.query(`INSERT INTO secrets VALUES ('scrypt$hash')`);
    await c.end();
    const socketDir = new URL(db!.url).searchParams.get('host')!;
    await db!.stop();
    expect(existsSync(socketDir), 'the socket directory is removed').to.equal(false);
    let all = modes(dir);
    expect(all.length).to.be.above(10);
    for (const m of all) expect(m.mode, m.path).to.equal(m.dir ? 0o700 : 0o600);

    // an older data directory, world-readable: tightened at the next start
    for (const m of all) chmodSync(m.path, m.dir ? 0o777 : 0o666);
    writeFileSync(path.join(dir, 'left-over'), 'x', { mode: 0o644 });
    const before = readFileSync(`${dir}.password`, 'utf8');
    db = await startEmbeddedDatabase({ dir });
    expect(await connects(db.url)).to.equal(true);
    expect(readFileSync(`${dir}.password`, 'utf8')).to.equal(before);
    all = modes(dir);
    for (const m of all) expect(m.mode, m.path).to.equal(m.dir ? 0o700 : 0o600);
  });
});
