// `npm run bench`: the figures of SPEC section 9, each beside its target, as a table and as JSON.
// Uses DATABASE_URL when set (a fresh database is created on that server), else the embedded one.
// `npm run bench -- hotpath mpesa` runs only those figures. The figures measured against this
// process's controller are in scripts/figures/; the others run in processes of their own.
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { benchDatabase, dropBenchDatabase, startBenchController } from './lib/bench-controller.ts';
import { Api, figures, inOwnProcess, log, type Figure } from './lib/bench-kit.ts';
import { benchAdds } from './figures/adds.ts';
import { benchExpiry } from './figures/expiry.ts';
import { benchFanout } from './figures/fanout.ts';
import { benchIpSearch } from './figures/ip-search.ts';
import { benchMpesa } from './figures/mpesa.ts';

async function main(): Promise<void> {
  const databaseUrl = await benchDatabase('');
  log(databaseUrl ? `database: PostgreSQL (${new URL(databaseUrl).pathname.slice(1)})` : 'database: embedded PGlite (set DATABASE_URL for a real PostgreSQL)');
  const only = process.argv.slice(2);
  const want = (k: string) => only.length === 0 || only.includes(k);
  const c = await startBenchController(databaseUrl, '', { MTANDAO_RECONCILE_ON_CONNECT: '0' });
  const api = new Api(c.url);
  await api.ok('POST', '/auth/login', { username: 'admin', password: 'bench-admin-password' });
  try {
    if (want('ipam')) await benchIpSearch(c, api);
    if (want('adds')) await benchAdds(c, api);
    if (want('hotpath')) figures.push(...(await inOwnProcess<Figure[]>('bench-hotpath.ts')));
    if (want('reconcile')) figures.push(...(await inOwnProcess<Figure[]>('bench-reconcile.ts')));
    if (want('import')) figures.push(...(await inOwnProcess<Figure[]>('bench-import.ts')));
    if (want('fanout')) await benchFanout(c, api);
    if (want('overview')) figures.push(...(await inOwnProcess<Figure[]>('bench-overview.ts')));
    if (want('expiry')) await benchExpiry(c, api);
    if (want('mpesa')) await benchMpesa(c, api);
    if (want('hotspot')) figures.push(...(await inOwnProcess<Figure[]>('bench-hotspot.ts')));
  } finally {
    await c.stop();
  }
  const cores = cpus().length;
  const width = Math.max(...figures.map((f) => f.figure.length));
  const vw = Math.max(8, ...figures.map((f) => f.value.length));
  const tw = Math.max(6, ...figures.map((f) => f.target.length));
  const lines = [
    `Mtandao benchmarks — ${cores} cores, Node ${process.version}, ${databaseUrl ? 'PostgreSQL' : 'embedded PGlite'}`,
    '',
    `${'figure'.padEnd(width)}  ${'measured'.padEnd(vw)}  ${'target'.padEnd(tw)}  result`,
    `${'-'.repeat(width)}  ${'-'.repeat(vw)}  ${'-'.repeat(tw)}  ------`,
    ...figures.map((f) => `${f.figure.padEnd(width)}  ${f.value.padEnd(vw)}  ${f.target.padEnd(tw)}  ${f.pass === null ? 'n/a' : f.pass ? 'PASS' : 'MISS'}`),
  ];
  const json = { cores, node: process.version, database: databaseUrl ? 'postgresql' : 'pglite', at: new Date().toISOString(), figures };
  process.stdout.write(`${lines.join('\n')}\n\n${JSON.stringify(json, null, 2)}\n`);
  writeFileSync('bench-results.json', `${JSON.stringify(json, null, 2)}\n`);
  await dropBenchDatabase(databaseUrl);
  process.exit(0);
}

await main();
