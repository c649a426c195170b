import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { enrollAgent, startAgent, type AgentHandle } from '@mtandao/agent';
import { RouterOsSim } from '@mtandao/routeros-sim';
import type { RouterTransport } from '@mtandao/protocol';
import { ApiClient, expectStatus } from './client.ts';
import { ADMIN_PASSWORD, startTestController } from './controller.ts';
import { Fixtures } from './fixtures.ts';

type Body = Record<string, unknown>;
type AgentTiming = NonNullable<Parameters<typeof startAgent>[0]['timing']>;
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const ROUTER_USER = 'mtandao';
export const ROUTER_PASSWORD = 'router-pw-42';

/** The whole path of a provisioning command: controller, emulated router, enrolled agent. */
export interface Stack {
  controller: Awaited<ReturnType<typeof startTestController>>;
  api: ApiClient;
  fx: Fixtures;
  world: Awaited<ReturnType<Fixtures['world']>>;
  sim: RouterOsSim;
  ports: { apiPort: number; sshPort?: number };
  stateDir: string;
  configFile: string;
  routerName: string;
  agent?: AgentHandle;
  child?: ChildProcess;
  startAgentInProcess(timing?: AgentTiming): Promise<AgentHandle>;
  startAgentProcess(): Promise<ChildProcess>;
  stop(): Promise<void>;
}

/** Starts a controller, an emulator and an enrolled (not yet running) agent for the world's site. */
export async function startStack(options: { transport?: RouterTransport; env?: Record<string, string>; databaseUrl?: string } = {}): Promise<Stack> {
  const transport = options.transport ?? 'api';
  const controller = await startTestController(
    { MTANDAO_HEARTBEAT_SECONDS: '2', ...options.env },
    options.databaseUrl ? { databaseUrl: options.databaseUrl } : {},
  );
  const api = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
  const fx = new Fixtures(api);
  const world = await fx.world();
  const sim = new RouterOsSim({ username: ROUTER_USER, password: ROUTER_PASSWORD, sshPort: transport === 'ssh' ? 0 : null, identity: 'test-router' });
  const ports = await sim.start();
  const stateDir = mkdtempSync(path.join(tmpdir(), 'mtandao-agent-state-'));
  const token = expectStatus(await api.post(`/sites/${world.site.id}/enrollment-tokens`), 201) as { token: string };
  await enrollAgent({ controllerUrl: controller.url, token: token.token, stateDir });
  const routerName = world.router.name as string;
  const router = {
    name: routerName,
    host: '127.0.0.1',
    port: transport === 'ssh' ? ports.sshPort! : ports.apiPort,
    transport,
    username: ROUTER_USER,
    password: ROUTER_PASSWORD,
    timeoutMs: 3000,
  };
  const configFile = path.join(stateDir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ routers: [router], logLevel: process.env.TEST_LOG_LEVEL ?? 'silent', healthIntervalSeconds: 5 }), { mode: 0o600 });
  const stack: Stack = {
    controller,
    api,
    fx,
    world,
    sim,
    ports,
    stateDir,
    configFile,
    routerName,
    async startAgentInProcess(timing = {}) {
      stack.agent = await startAgent({
        stateDir,
        config: { routers: [router], logLevel: (process.env.TEST_LOG_LEVEL as 'silent' | undefined) ?? 'silent', healthIntervalSeconds: 5 },
        timing: { pingIntervalMs: 1000, backoffBaseMs: 50, backoffCapMs: 500, ...timing },
      });
      await stack.agent.whenConnected();
      return stack.agent;
    },
    async startAgentProcess() {
      const child = spawn(
        process.execPath,
        [
          '--conditions=mtandao-source',
          '--import',
          'tsx',
          path.join(repoRoot, 'agent/bin/mtandao-agent.mjs'),
          'run',
          '--config',
          configFile,
          '--state-dir',
          stateDir,
        ],
        {
          stdio: ['ignore', process.env.TEST_LOG_LEVEL ? 'inherit' : 'ignore', 'inherit'],
        },
      );
      stack.child = child;
      return child;
    },
    async stop() {
      await stack.agent?.stop().catch(() => undefined);
      if (stack.child && stack.child.exitCode === null) {
        stack.child.kill('SIGKILL');
        await new Promise((r) => stack.child!.once('exit', r));
      }
      await sim.stop();
      await controller.stop();
    },
  };
  return stack;
}

/** Polls until `check` returns a value (not undefined) or the time runs out. */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** Waits until every job of the filter is applied (or one fails). */
export async function allApplied(api: ApiClient, query = '', timeoutMs = 20_000): Promise<Body[]> {
  return eventually(
    async () => {
      const jobs = (expectStatus(await api.get(`/provisioning/jobs?pageSize=200${query}`), 200) as { items: Body[] }).items;
      const failed = jobs.find((j) => j.status === 'failed');
      if (failed) throw new Error(`job ${failed.id} failed: ${failed.lastError}`);
      return jobs.length > 0 && jobs.every((j) => j.status === 'applied') ? jobs : undefined;
    },
    `jobs${query} to be applied`,
    timeoutMs,
  );
}
