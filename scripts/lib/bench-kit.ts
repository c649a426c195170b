// What the figures of `npm run bench` (scripts/bench.ts, scripts/figures/) share: the table they fill,
// the API client, the site and client processes, and the statement counter of the in-process controller.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { enrollAgent } from '@mtandao/agent';
import type { Controller } from '../../controller/src/server.ts';
import { countStatements } from './statement-counter.ts';
import { childrenOf } from './proc-cpu.ts';
import { BenchApi } from './bench-api.ts';

/** The scripts directory: the child processes' modules live there. */
const here = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
export type Body = Record<string, unknown>;

export interface Figure {
  figure: string;
  value: string;
  target: string;
  pass: boolean | null;
  detail?: Record<string, unknown>;
}

/** The figures measured so far, in order. */
export const figures: Figure[] = [];
export const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

export const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
export const ms = (x: number) => `${x.toFixed(2)} ms`;

// every SQL statement the in-process controller sends
export const sql = countStatements();

/** The database's processes: the bench database's backends on PostgreSQL, else the embedded database (this process's child). */
export async function databasePids(c: Controller): Promise<number[]> {
  if (process.env.DATABASE_URL) {
    const rows = await c.services.db.rows<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()');
    return rows.map((r) => Number(r.pid));
  }
  return childrenOf(process.pid);
}

/** The API client the figures share. */
export { BenchApi as Api };

export function startSite(spec: { latencyMs: number; agents: { stateDir: string; routerName: string }[]; agentsPerRouter: number }): Promise<ChildProcess> {
  const child = fork(path.join(here, 'bench-site.ts'), [], {
    execArgv: ['--conditions=mtandao-source', '--import', 'tsx'],
    env: { ...process.env, BENCH_SITE: JSON.stringify(spec) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`bench site exited ${code}`)));
    child.on('message', (m: { t: string }) => {
      if (m.t === 'ready') resolve(child);
    });
  });
}

export async function stopSite(child: ChildProcess): Promise<void> {
  child.removeAllListeners('exit');
  child.send({ t: 'stop' });
  await new Promise((r) => child.once('exit', r));
}

/** Runs GETs from a separate process and returns their timings. */
export function httpClient(job: { base: string; cookie: string; paths: string[]; warmup: number }): Promise<{ times: number[]; results: number }> {
  const child = fork(path.join(here, 'bench-client.ts'), [], {
    execArgv: ['--conditions=mtandao-source', '--import', 'tsx'],
    env: { ...process.env, BENCH_CLIENT: JSON.stringify(job) },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as { times: number[]; results: number }) : reject(new Error(`bench client exited ${code}`)),
    );
  });
}

/** Runs a figure's module in a process of its own (the agent never shares the controller's). */
export function inOwnProcess<T>(module: string): Promise<T> {
  const child = fork(path.join(here, module), [], {
    execArgv: ['--conditions=mtandao-source', '--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as T) : reject(new Error(`${module} exited ${code}`))));
  });
}

/** The POSTing client process. */
export async function postClient() {
  const child = fork(path.join(here, 'bench-client.ts'), [], {
    execArgv: ['--conditions=mtandao-source', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve) => child.once('message', () => resolve()));
  return {
    ask<T>(msg: unknown): Promise<T> {
      return new Promise((resolve, reject) => {
        child.once('message', (m: { t: string; message?: string }) => (m.t === 'error' ? reject(new Error(m.message)) : resolve(m as T)));
        child.send(msg as object);
      });
    },
    stop: () => child.kill(),
  };
}

export async function enrolledAgent(api: BenchApi, controllerUrl: string, siteId: string): Promise<string> {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'mtandao-bench-agent-'));
  const { token } = await api.ok<{ token: string }>('POST', `/sites/${siteId}/enrollment-tokens`);
  await enrollAgent({ controllerUrl, token, stateDir });
  return stateDir;
}
