// `npm run agent:footprint`: the packed agent's start time and idle memory with ten routers.
// Packs and installs the agent as agent/Dockerfile does (scripts/lib/agent-install.mjs), starts ten
// RouterOS emulators and a stand-in controller in this process, and runs the installed bin as
// shipped: its own process, plain JavaScript, the NODE_OPTIONS the image and the systemd unit set
// (read from deploy/mtandao-agent.service, checked against agent/Dockerfile), health every 30 s
// (the default). Prints the time to "agent started", to connected and to the first health report
// with all ten routers reachable; resident memory once started and once idle (V8's memory reducer
// compacts the heap some 10–30 s after start), and where it goes (scripts/lib/agent-memory-probe.cjs).
// Targets (issue 12): start ≤ 1 s, idle RSS ≤ 50 MB; exits 1 past either.
// FOOTPRINT_IDLE_MS: how long idle is (default 60 000); AGENT_NODE_OPTIONS replaces the shipped
// NODE_OPTIONS; MTANDAO_AGENT_LOW_MEMORY=0 turns the bin's low-memory mode off (agent/README.md).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HealthMessage } from '@mtandao/protocol';
import { RouterOsSim } from '@mtandao/routeros-sim';
import { enrollAgent } from '@mtandao/agent';
import { FakeController } from '../agent/test/helpers/fake-controller.ts';
import { packAndInstall } from './lib/agent-install.mjs';

const ROUTERS = 10;
const TARGET_START_MS = 1000;
const TARGET_RSS_MB = 50;
const STARTED_MS = 5000;
const IDLE_MS = Number(process.env.FOOTPRINT_IDLE_MS ?? 60_000);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PROBE = path.join(root, 'scripts/lib/agent-memory-probe.cjs');

/** The NODE_OPTIONS the unit and the image run the agent with (they must agree). */
function shippedNodeOptions(): string {
  const unit = /^Environment=NODE_OPTIONS=(.*)$/m.exec(readFileSync(path.join(root, 'deploy/mtandao-agent.service'), 'utf8'))?.[1]?.trim() ?? '';
  const image = /NODE_OPTIONS=(\S+)/.exec(readFileSync(path.join(root, 'agent/Dockerfile'), 'utf8'))?.[1] ?? '';
  if (unit !== image) throw new Error(`NODE_OPTIONS differ: deploy/mtandao-agent.service "${unit}", agent/Dockerfile "${image}"`);
  return unit;
}

interface Sample {
  rss: number;
  anon: number;
  file: number;
  hwm: number;
  usage: NodeJS.MemoryUsage;
  spaces: Record<string, { committed: number; used: number }>;
}

const MB = 1024 * 1024;
const mb = (bytes: number): string => `${(bytes / MB).toFixed(1)} MB`;

const dir = mkdtempSync(path.join(tmpdir(), 'mtandao-agent-footprint-'));
const sims: RouterOsSim[] = [];
const controller = await FakeController.start();
try {
  const nodeOptions = process.env.AGENT_NODE_OPTIONS ?? shippedNodeOptions();
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
  writeFileSync(configFile, JSON.stringify({ routers, logLevel: 'info' }), { mode: 0o600 });

  const t0 = performance.now();
  const env = { ...process.env, NODE_ENV: 'production', NODE_OPTIONS: `${nodeOptions} --require ${PROBE}`.trim() };
  const child = spawn(process.execPath, [bin, 'run', '--config', configFile, '--state-dir', stateDir], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const marks: Record<string, number> = {};
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const [mark, text] of [
      ['started', '"agent started"'],
      ['connected', '"connected to the controller"'],
    ] as const) {
      if (marks[mark] === undefined && stdout.includes(text)) marks[mark] = performance.now() - t0;
    }
  });
  let stderr = '';
  const probeLines: ((line: string) => void)[] = [];
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    let nl;
    while ((nl = stderr.indexOf('\n')) >= 0) {
      const line = stderr.slice(0, nl);
      stderr = stderr.slice(nl + 1);
      if (line.startsWith('mtandao-memory ')) probeLines.shift()?.(line.slice('mtandao-memory '.length));
      else process.stderr.write(`${line}\n`);
    }
  });
  /** Resident memory from /proc first, then the agent's own figures (read after, so they do not count). */
  const sample = async (): Promise<Sample> => {
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]) * 1024;
    const reply = new Promise<string>((resolve) => probeLines.push(resolve));
    child.kill('SIGUSR2');
    const { usage, spaces } = JSON.parse(await reply) as Pick<Sample, 'usage' | 'spaces'>;
    return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile'), hwm: kb('VmHWM'), usage, spaces };
  };

  const health = await controller.waitFor(
    (m): m is HealthMessage => m.type === 'health' && m.routers.length === ROUTERS && m.routers.every((r) => r.reachable),
    20_000,
  );
  marks.healthy = performance.now() - t0;
  const until = (msAfterStart: number) => new Promise((r) => setTimeout(r, Math.max(0, t0 + msAfterStart - performance.now())));
  await until(STARTED_MS);
  const started = await sample();
  await until(IDLE_MS);
  const idle = await sample();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));

  const ms = (v: number | undefined): string => (v === undefined ? '—' : `${Math.round(v)} ms`);
  const heap = (s: Sample): string => {
    const sp = (name: string) => s.spaces[`${name}_space`] ?? { committed: 0, used: 0 };
    const parts = ['old', 'code', 'large_object', 'new'].map(
      (n) => `${n.replace('_', ' ')} ${(sp(n).used / MB).toFixed(1)}/${(sp(n).committed / MB).toFixed(1)}`,
    );
    return `V8 heap ${mb(s.usage.heapUsed)} used of ${mb(s.usage.heapTotal)} (used/committed MB: ${parts.join(', ')})`;
  };
  const breakdown = (s: Sample): string[] => [
    `      node and its libraries (file pages)  ${mb(s.file)}`,
    `      anonymous                            ${mb(s.anon)}: ${heap(s)}; native (malloc, thread stacks) ≈ ${mb(Math.max(0, s.anon - s.usage.heapTotal))}`,
    `      V8's external memory                 ${mb(s.usage.external)} (buffers, and Node's built-in sources, which are file pages)`,
  ];
  const lowMemory = process.env.MTANDAO_AGENT_LOW_MEMORY === '0' ? 'off' : 'on';
  console.log(
    [
      `mtandao-agent (packed bin) with ${ROUTERS} routers, node ${process.version}, NODE_OPTIONS="${nodeOptions}", low-memory mode ${lowMemory}`,
      `  start to "agent started"        ${ms(marks.started)}   (target ≤ ${TARGET_START_MS} ms)`,
      `  start to connected              ${ms(marks.connected)}`,
      `  start to ${ROUTERS} routers reported     ${ms(marks.healthy)}   (${health.routers
        .map((r) => r.version)
        .filter((v, i, a) => a.indexOf(v) === i)
        .join(', ')})`,
      `  RSS ${STARTED_MS / 1000} s after start           ${mb(started.rss)}`,
      ...breakdown(started),
      `  RSS idle, ${IDLE_MS / 1000} s after start       ${mb(idle.rss)}   (peak ${mb(idle.hwm)}; target ≤ ${TARGET_RSS_MB} MB)`,
      ...breakdown(idle),
    ].join('\n'),
  );
  process.exitCode = (marks.started ?? Infinity) > TARGET_START_MS || idle.rss > TARGET_RSS_MB * MB ? 1 : 0;
} finally {
  await Promise.all(sims.map((s) => s.stop()));
  await controller.close();
  rmSync(dir, { recursive: true, force: true });
}
