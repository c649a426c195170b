import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApplyResult, CustomerSpec, PlanSpec, TypedEnvelope } from '@mtandao/protocol';
import { enrollAgent, startAgent, type AgentConfig, type AgentHandle, type AgentTiming, type Executor, type HealthProbe } from '../../src/agent.ts';
import type { RouterConfig } from '../../src/drivers/types.ts';
import type { Resolver } from '../../src/channel/endpoints.ts';
import { createLogger, type Logger } from '../../src/logger.ts';
import type { FakeController } from './fake-controller.ts';

/** A fresh temporary directory, removed by the returned cleanup. */
export async function tempDir(prefix = 'mtandao-agent-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export const removeDir = (dir: string): Promise<void> => rm(dir, { recursive: true, force: true });

/** A logger that keeps its JSON lines in memory (for asserting what was, and was not, logged). */
export function memoryLogger(level: 'info' | 'debug' | 'silent' = 'debug'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger({ level, destination: { write: (line: string) => void lines.push(line) } }), lines };
}

export const ROUTER_PASSWORD = 'router-secret-pw-7731';

/** A router entry as the runner sees it. */
export function router(name = 'core-1'): RouterConfig {
  return { name, host: '10.0.0.1', port: 8728, transport: 'api', username: 'mtandao', password: ROUTER_PASSWORD };
}

export function agentConfig(routers: RouterConfig[] = [router()]): AgentConfig {
  return { routers, logLevel: 'silent', healthIntervalSeconds: 30 };
}

export const plan: PlanSpec = {
  planId: 'plan-1',
  name: 'Home 10M',
  connectionType: 'pppoe',
  uploadSpeed: '5M',
  downloadSpeed: '10M',
  localAddress: '10.64.0.1',
};

export function customer(customerId: string, username = `user-${customerId}`): CustomerSpec {
  return { customerId, connectionType: 'pppoe', username, password: 'pw-1234', status: 'active', ipAddress: '10.64.0.10', plan };
}

/** A `customer.apply` payload for `router`. */
export const applyCustomer = (customerId: string, routerName = 'core-1'): { router: string; customer: CustomerSpec } => ({
  router: routerName,
  customer: customer(customerId),
});

/** An executor that records each call and answers after `delayMs`. */
export function recordingExecutor(
  options: { delayMs?: number; fail?: (env: TypedEnvelope) => unknown } = {},
): Executor & { calls: TypedEnvelope[]; running: number; maxRunning: number } {
  const executor = Object.assign(
    async (_router: RouterConfig, envelope: TypedEnvelope): Promise<ApplyResult> => {
      executor.calls.push(envelope);
      executor.running += 1;
      executor.maxRunning = Math.max(executor.maxRunning, executor.running);
      try {
        if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
        const failure = options.fail?.(envelope);
        if (failure) throw failure;
        return { changes: [`applied ${envelope.type}`] };
      } finally {
        executor.running -= 1;
      }
    },
    { calls: [] as TypedEnvelope[], running: 0, maxRunning: 0 },
  );
  return executor;
}

export const healthyProbe: HealthProbe = async () => ({ version: '7.18.2 (stable)', identity: 'core-1' });

/** Timing that keeps tests fast. */
export const FAST: Partial<AgentTiming> = { backoffBaseMs: 20, backoffCapMs: 200, authRetryMs: 200, stopGraceMs: 2000, pingIntervalMs: 5000 };

/** Enrols a fresh state directory with the fake controller. */
export async function enrolledStateDir(controller: FakeController): Promise<{ stateDir: string; agentId: string }> {
  const stateDir = join(await tempDir(), 'agent');
  const identity = await enrollAgent({ controllerUrl: controller.url, token: controller.issueToken(), stateDir, hostname: 'test-host' });
  return { stateDir, agentId: identity.agentId };
}

/** Starts an agent on `stateDir` against the fake controller and waits until it is connected. */
export async function connectedAgent(
  stateDir: string,
  options: {
    executor?: Executor;
    probe?: HealthProbe;
    config?: AgentConfig;
    logger?: Logger;
    timing?: Partial<AgentTiming>;
    concurrencyPerRouter?: number;
    resolve?: Resolver;
  } = {},
): Promise<AgentHandle> {
  const handle = await startAgent({
    stateDir,
    config: options.config ?? agentConfig(),
    executor: options.executor ?? recordingExecutor(),
    probe: options.probe ?? healthyProbe,
    logger: options.logger ?? createLogger({ level: 'silent' }),
    timing: { ...FAST, ...options.timing },
    concurrencyPerRouter: options.concurrencyPerRouter,
    resolve: options.resolve,
  });
  await handle.whenConnected();
  return handle;
}
