#!/usr/bin/env node
// `npm start`: the controller on the embedded database (unless DATABASE_URL is set), the dashboard,
// and — unless MTANDAO_DEMO=0 — a demo site: the RouterOS emulator and an agent enrolled to it.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, createWriteStream, existsSync, openSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { forwardLines } from './lib/output.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env };
const dataDir = path.resolve(root, env.MTANDAO_DATA_DIR ?? 'data');
env.MTANDAO_DATA_DIR = dataDir;
const controllerPort = Number(env.MTANDAO_CONTROLLER_PORT ?? 8080);
const dashboardPort = Number(env.MTANDAO_DASHBOARD_PORT ?? 3000);
const demo = !['0', 'false', 'no'].includes(String(env.MTANDAO_DEMO ?? '1'));
const apiPort = Number(env.MTANDAO_DEMO_API_PORT ?? 8728);
const sshPort = Number(env.MTANDAO_DEMO_SSH_PORT ?? 2222);
const routerPassword = env.MTANDAO_DEMO_ROUTER_PASSWORD ?? 'admin';
// the demo's M-Pesa is a local Daraja fake, unless MTANDAO_DARAJA_URL points elsewhere
const darajaPort = Number(env.MTANDAO_DEMO_DARAJA_PORT ?? 8089);
const darajaFake = demo && !env.MTANDAO_DARAJA_URL;
if (darajaFake) env.MTANDAO_DARAJA_URL = `http://127.0.0.1:${darajaPort}`;
const controllerUrl = `http://127.0.0.1:${controllerPort}`;
const logDir = path.join(dataDir, 'logs');
// MTANDAO_START_VERBOSE=1 shows every info line of every program on the terminal too
const verbose = ['1', 'true', 'yes'].includes(String(env.MTANDAO_START_VERBOSE ?? ''));
mkdirSync(logDir, { recursive: true, mode: 0o700 });

const children = [];
let stopping = false;
let bootstrapPassword;

function run(name, args, options = {}) {
  const file = createWriteStream(path.join(logDir, `${name}.log`), { flags: 'a', mode: 0o600 });
  const child = spawn(process.execPath, args, { cwd: root, env: { ...env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.name = name;
  children.push(child);
  for (const [stream, isErr] of [
    [child.stdout, false],
    [child.stderr, true],
  ]) {
    forwardLines(stream, {
      log: (line) => file.write(`${line}\n`),
      print: (text) => process.stdout.write(`[${name}] ${text}\n`),
      quiet: !verbose,
      isErr,
      onBootstrap: (password) => {
        bootstrapPassword = password;
      },
    });
  }
  child.on('exit', (code, signal) => {
    if (!stopping) {
      process.stderr.write(`[${name}] exited (${signal ?? code}); stopping everything\n`);
      void stop(1);
    }
  });
  return child;
}

/** Runs a build step with its output in data/logs/build.log; throws naming the log when it fails. */
function build(what, args, cwd = root) {
  const log = path.join(logDir, 'build.log');
  const fd = openSync(log, 'a', 0o600);
  try {
    const r = spawnSync(process.execPath, args, { cwd, env, stdio: ['ignore', fd, fd] });
    if (r.status !== 0) throw new Error(`${what} failed; see ${log}`);
  } finally {
    closeSync(fd);
  }
}

/** Newest modification time under a path (0 when it does not exist). */
function newest(p) {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(p).map((f) => newest(path.join(p, f))));
}

async function waitFor(check, what, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not come up within ${timeoutMs / 1000} s`);
}

const portOpen = (port) =>
  new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

async function stop(code = 0) {
  stopping = true;
  for (const c of children.reverse()) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 3000).unref();
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r)))));
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

async function main() {
  for (const [port, what] of [
    [controllerPort, 'controller (MTANDAO_CONTROLLER_PORT)'],
    [dashboardPort, 'dashboard (MTANDAO_DASHBOARD_PORT)'],
    ...(demo
      ? [
          [apiPort, 'demo router API (MTANDAO_DEMO_API_PORT)'],
          [sshPort, 'demo router SSH (MTANDAO_DEMO_SSH_PORT)'],
        ]
      : []),
    ...(darajaFake ? [[darajaPort, 'M-Pesa Daraja fake (MTANDAO_DEMO_DARAJA_PORT)']] : []),
  ]) {
    if (await portOpen(port)) throw new Error(`port ${port} for the ${what} is already in use`);
  }

  // protocol, agent and controller run compiled (dist/): tsc -b rebuilds only what changed (~1 s when nothing did)
  process.stdout.write(`[start] building (output in ${path.join(logDir, 'build.log')})…\n`);
  build('the JavaScript build', [
    path.join(root, 'node_modules/typescript/bin/tsc'),
    '-b',
    ...['protocol', 'agent', 'controller'].map((w) => `${w}/tsconfig.build.json`),
  ]);

  const dashboardDir = path.join(root, 'dashboard');
  const hasDashboard = existsSync(path.join(dashboardDir, 'package.json'));
  const built = newest(path.join(dashboardDir, 'build', 'index.js'));
  const sources = Math.max(
    ...['src', 'entry', 'static', 'svelte.config.js', 'vite.config.ts', 'package.json'].map((p) => newest(path.join(dashboardDir, p))),
    newest(path.join(root, 'protocol', 'src')),
  );
  if (hasDashboard && built < sources) {
    process.stdout.write(`[start] building the dashboard (${built ? 'its sources changed' : 'first start'}, about a minute)…\n`);
    build('the dashboard build', [path.join(root, 'node_modules/vite/bin/vite.js'), 'build'], dashboardDir);
  }

  if (darajaFake) {
    // the same credentials as the demo's M-Pesa settings (controller/src/demo.ts)
    run('daraja', [
      'controller/bin/daraja-fake.mjs',
      '--port',
      String(darajaPort),
      '--consumer-key',
      'demo-consumer-key',
      '--consumer-secret',
      'demo-consumer-secret',
      '--passkey',
      'demo-passkey',
    ]);
    await waitFor(() => portOpen(darajaPort), 'the Daraja fake');
  }
  run('controller', ['controller/bin/mtandao-controller.mjs']);
  await waitFor(async () => (await fetch(`${controllerUrl}/readyz`)).ok, 'the controller');

  if (demo) {
    const demoDir = path.join(dataDir, 'demo');
    mkdirSync(demoDir, { recursive: true, mode: 0o700 });
    run('router', [
      'routeros-sim/bin/mtandao-routeros-sim.mjs',
      '--api-port',
      String(apiPort),
      '--ssh-port',
      String(sshPort),
      '--username',
      'admin',
      '--password',
      routerPassword,
      '--identity',
      'demo-router',
      '--host-key',
      path.join(demoDir, 'ssh_host_key'),
    ]);
    await waitFor(() => portOpen(apiPort), 'the demo router');
    const stateDir = path.join(dataDir, 'agent');
    const configFile = path.join(demoDir, 'agent.json');
    writeFileSync(
      configFile,
      JSON.stringify(
        {
          routers: [{ name: 'demo-router', host: '127.0.0.1', port: apiPort, transport: 'api', username: 'admin', password: routerPassword }],
          logLevel: 'info',
          healthIntervalSeconds: 15,
        },
        null,
        2,
      ),
      { mode: 0o600 },
    );
    const tokenFile = path.join(demoDir, 'enrollment-token');
    if (!existsSync(path.join(stateDir, 'identity.json')) || (existsSync(tokenFile) && readFileSync(tokenFile, 'utf8').trim())) {
      if (existsSync(tokenFile)) {
        const r = spawnSync(
          process.execPath,
          ['agent/bin/mtandao-agent.mjs', 'enroll', '--controller', controllerUrl, '--token-file', tokenFile, '--state-dir', stateDir, '--force'],
          { cwd: root, env, encoding: 'utf8' },
        );
        if (r.status !== 0) throw new Error(`demo agent enrolment failed: ${r.stderr || r.stdout}`);
        writeFileSync(tokenFile, '', { mode: 0o600 }); // spent
      }
    }
    run('agent', ['agent/bin/mtandao-agent.mjs', 'run', '--config', configFile, '--state-dir', stateDir]);
  }

  if (hasDashboard) {
    run('dashboard', ['dashboard/build/index.js'], {
      env: { PORT: String(dashboardPort), HOST: env.MTANDAO_DASHBOARD_HOST ?? '0.0.0.0', MTANDAO_CONTROLLER_URL: controllerUrl },
    });
    await waitFor(() => portOpen(dashboardPort), 'the dashboard');
  }

  const password =
    bootstrapPassword ?? (env.MTANDAO_ADMIN_PASSWORD ? '(the value of MTANDAO_ADMIN_PASSWORD)' : '(printed at the first start; delete ./data to start over)');
  process.stdout.write(
    [
      '',
      '  Mtandao is running',
      hasDashboard ? `  dashboard   http://localhost:${dashboardPort}` : '  dashboard   (not built in this checkout)',
      `  API         http://localhost:${controllerPort}/api/v1   (OpenAPI: /api/v1/openapi.json)`,
      `  sign in     admin / ${password}`,
      ...(demo ? [`  demo router RouterOS API 127.0.0.1:${apiPort}, SSH 127.0.0.1:${sshPort}, login admin / ${routerPassword}`] : []),
      ...(darajaFake ? [`  M-Pesa      a Daraja fake at http://localhost:${darajaPort}: npm run demo:pay -- <account> <amount>`] : []),
      `  data        ${dataDir}${env.DATABASE_URL ? '' : '   (embedded PostgreSQL)'}`,
      `  logs        ${logDir}/{${children.map((c) => c.name).join(',')},build}.log   (warnings and errors also show here)`,
      '  Ctrl-C stops everything.',
      '',
    ].join('\n') + '\n',
  );
}

main().catch((err) => {
  process.stderr.write(`[start] ${err.message}\n`);
  void stop(1);
});
