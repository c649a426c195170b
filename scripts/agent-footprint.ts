// `npm run agent:footprint`: the packed agent's start time and idle memory with ten routers.
// Packs and installs the agent as agent/Dockerfile does (scripts/lib/agent-install.mjs), starts ten
// RouterOS emulators and a stand-in controller in this process, runs the installed agent (plain
// compiled JavaScript, its own process) and prints: time to "agent started", to connected, to the
// first health report with all ten routers reachable, and its resident memory once idle.
// Targets (issue 12): start ≤ 1 s, idle RSS ≤ 50 MB; exits 1 past either.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { HealthMessage } from '@mtandao/protocol';
import { RouterOsSim } from '@mtandao/routeros-sim';
import { enrollAgent } from '@mtandao/agent';
import { FakeController } from '../agent/test/helpers/fake-controller.ts';
import { packAndInstall } from './lib/agent-install.mjs';

const ROUTERS = 10;
const TARGET_START_MS = 1000;
const TARGET_RSS_MB = 50;
const IDLE_MS = Number(process.env.FOOTPRINT_IDLE_MS ?? 5000);

const dir = mkdtempSync(path.join(tmpdir(), 'mtandao-agent-footprint-'));
const sims: RouterOsSim[] = [];
const controller = await FakeController.start();
try {
  const { bin } = packAndInstall(dir);
  const routers = [];
  for (let i = 0; i < ROUTERS; i++) {
    const sim = new RouterOsSim({ username: 'mtandao', password: 'pw', sshPort: null, identity: `router-${i + 1}` });
    sims.push(sim);
    const { apiPort } = await sim.start();
    routers.push({ name: `router-${i + 1}`, host: '127.0.0.1', port: apiPort, transport: 'api', username: 'mtandao', password: 'pw' });
  }
  const stateDir = path.join(dir, 'state');
  await enrollAgent({ controllerUrl: controller.url, token: controller.issueToken(), stateDir });
  const configFile = path.join(dir, 'agent.json');
  writeFileSync(configFile, JSON.stringify({ routers, logLevel: 'info', healthIntervalSeconds: 3600 }), { mode: 0o600 });

  const t0 = performance.now();
  // AGENT_NODE_OPTIONS: V8/Node flags for the agent alone (e.g. the image's --max-semi-space-size=1)
  const env = { ...process.env, NODE_OPTIONS: process.env.AGENT_NODE_OPTIONS ?? '' };
  const child = spawn(process.execPath, [bin, 'run', '--config', configFile, '--state-dir', stateDir], { stdio: ['ignore', 'pipe', 'inherit'], env });
  const marks: Record<string, number> = {};
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    for (const [mark, text] of [
      ['started', '"agent started"'],
      ['connected', '"connected to the controller"'],
    ] as const) {
      if (marks[mark] === undefined && buffered.includes(text)) marks[mark] = performance.now() - t0;
    }
  });
  const health = await controller.waitFor(
    (m): m is HealthMessage => m.type === 'health' && m.routers.length === ROUTERS && m.routers.every((r) => r.reachable),
    20_000,
  );
  marks.healthy = performance.now() - t0;
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const rssMb = Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
  const hwmMb = Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));

  const ms = (v: number | undefined): string => (v === undefined ? '—' : `${Math.round(v)} ms`);
  console.log(
    [
      `mtandao-agent (packed, compiled JavaScript) with ${ROUTERS} routers, node ${process.version}`,
      `  start to "agent started"        ${ms(marks.started)}   (target ≤ ${TARGET_START_MS} ms)`,
      `  start to connected              ${ms(marks.connected)}`,
      `  start to ${ROUTERS} routers reported     ${ms(marks.healthy)}   (${health.routers
        .map((r) => r.version)
        .filter((v, i, a) => a.indexOf(v) === i)
        .join(', ')})`,
      `  idle RSS after ${IDLE_MS / 1000} s           ${rssMb.toFixed(1)} MB   (peak ${hwmMb.toFixed(1)} MB; target ≤ ${TARGET_RSS_MB} MB)`,
    ].join('\n'),
  );
  process.exitCode = (marks.started ?? Infinity) > TARGET_START_MS || rssMb > TARGET_RSS_MB ? 1 : 0;
} finally {
  await Promise.all(sims.map((s) => s.stop()));
  await controller.close();
  rmSync(dir, { recursive: true, force: true });
}
