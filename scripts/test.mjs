#!/usr/bin/env node
// `npm test`: typecheck, lint and the five workspaces' mocha suites, all at once (each suite in its
// own process with its own database), output prefixed by task, one exit code, and a closing line
// "N passed, N failed". Test files are found by each workspace's glob (test/**/*.test.ts), so new
// ones run without being listed here. TEST_TASKS=controller,agent narrows the run
// (tasks: typecheck, lint, protocol, controller, controller-e2e, fuzz, agent, routeros-sim, dashboard).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tasks = [
  // svelte-check last, in the same task: its svelte-kit sync must not race the dashboard suite's build
  {
    name: 'typecheck',
    cmd: ['sh', '-c', 'npm run typecheck -w protocol -w agent -w routeros-sim -w controller -w dashboard && npx tsc -p scripts/tsconfig.json'],
  },
  { name: 'lint', cmd: ['npm', 'run', 'lint'] },
  { name: 'protocol', cmd: ['npm', 'test', '-w', 'protocol'], mocha: true },
  // the controller's suite in three processes (each with its own databases): most of its time is
  // waiting on controllers, agents and routers, not CPU
  { name: 'controller', cwd: 'controller', cmd: ['npx', 'mocha', 'test/*.test.ts', '--ignore', 'test/fuzz.test.ts'], mocha: true },
  { name: 'controller-e2e', cwd: 'controller', cmd: ['npx', 'mocha', 'test/e2e/**/*.test.ts'], mocha: true },
  { name: 'fuzz', cwd: 'controller', cmd: ['npx', 'mocha', 'test/fuzz.test.ts'], mocha: true },
  { name: 'agent', cmd: ['npm', 'test', '-w', 'agent'], mocha: true },
  { name: 'routeros-sim', cmd: ['npm', 'test', '-w', 'routeros-sim'], mocha: true },
  { name: 'dashboard', cmd: ['npm', 'test', '-w', 'dashboard'], mocha: true },
];
const only = process.env.TEST_TASKS?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const selected = only ? tasks.filter((t) => only.includes(t.name)) : tasks;
const width = Math.max(...selected.map((t) => t.name.length));
// the API fuzzer's cases per route in this run (its own default, 10 000, is for `npm run fuzz -w controller`)
const env = { ...process.env, FUZZ_RUNS: process.env.FUZZ_RUNS ?? '100', FORCE_COLOR: '0' };
const started = Date.now();

function run(task) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(task.cmd[0], task.cmd.slice(1), { cwd: path.join(root, task.cwd ?? '.'), env, stdio: ['ignore', 'pipe', 'pipe'] });
    const tag = `[${task.name.padEnd(width)}] `;
    const out = { passing: 0, failing: 0, pending: 0 };
    let rest = { stdout: '', stderr: '' };
    const onData = (stream) => (chunk) => {
      const text = rest[stream] + chunk.toString();
      const lines = text.split('\n');
      rest[stream] = lines.pop();
      for (const line of lines) emit(line);
    };
    const emit = (line) => {
      process.stdout.write(tag + line + '\n');
      const m = /^\s*(\d+) (passing|failing|pending)\b/.exec(line);
      if (m && task.mocha) out[m[2]] += Number(m[1]);
    };
    child.stdout.on('data', onData('stdout'));
    child.stderr.on('data', onData('stderr'));
    child.on('close', (code, signal) => {
      for (const s of ['stdout', 'stderr']) if (rest[s]) emit(rest[s]);
      const seconds = ((Date.now() - t0) / 1000).toFixed(0);
      process.stdout.write(`${tag}${code === 0 ? 'ok' : `FAILED (${signal ?? `exit ${code}`})`} in ${seconds} s\n`);
      resolve({ task, code: code ?? 1, ...out });
    });
  });
}

const results = await Promise.all(selected.map(run));
const passed = results.reduce((n, r) => n + r.passing, 0);
// a task that failed without a mocha count (typecheck, lint, a crash) counts as one failure
const failed = results.reduce((n, r) => n + (r.failing || (r.code !== 0 ? 1 : 0)), 0);
const broken = results.filter((r) => r.code !== 0).map((r) => r.task.name);
console.log(`\n${broken.length ? `failed: ${broken.join(', ')}; ` : ''}in ${((Date.now() - started) / 1000).toFixed(0)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(broken.length ? 1 : 0);
