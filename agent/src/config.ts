import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import * as z from 'zod';
import { RouterName, RouterTransport } from '@mtandao/protocol';
import type { RouterConfig } from './drivers/types.ts';
import { LOG_LEVELS, type LogLevel } from './logger.ts';

/*
 * The agent's config file (JSON), parsed once at start. Router credentials live only here.
 *
 * {
 *   "routers": [
 *     { "name": "core-1", "host": "10.0.0.1", "port": 8728, "transport": "api",
 *       "username": "mtandao", "passwordFile": "/etc/mtandao/core-1.password", "timeoutMs": 10000 },
 *     { "name": "edge-2", "host": "10.0.0.2", "transport": "ssh", "username": "mtandao", "password": "…" }
 *   ],
 *   "controllers": ["https://ctl-2.isp.example"],   // more controller instances to fail over to
 *   "logLevel": "info",            // fatal | error | warn | info | debug | trace | silent
 *   "healthIntervalSeconds": 30    // 5 … 3600
 * }
 *
 * Per router: `name` unique (letters, digits, space, ".", "_", "-"); `transport` api | api-ssl | ssh;
 * `port` defaults to 8728 / 8729 / 22 by transport; exactly one of `password` and `passwordFile`
 * (a path relative to the config file, one trailing newline dropped); optional `timeoutMs`
 * (per router command), `tlsRejectUnauthorized` (api-ssl) and `sshHostKey` (ssh: `SHA256:…`, any
 * other host key is refused; without it the key the router shows first is pinned in the state
 * directory's ssh-host-keys.json and any other refused after). Unknown keys are errors.
 */

const DEFAULT_PORTS: Record<RouterTransport, number> = { api: 8728, 'api-ssl': 8729, ssh: 22 };

const RouterEntry = z
  .object({
    name: RouterName,
    host: z.string().min(1).max(255),
    port: z.number().int().min(1).max(65535).optional(),
    transport: RouterTransport,
    username: z.string().min(1).max(128),
    password: z.string().min(1).max(256).optional(),
    passwordFile: z.string().min(1).optional(),
    timeoutMs: z.number().int().min(100).max(600_000).optional(),
    tlsRejectUnauthorized: z.boolean().optional(),
    sshHostKey: z.string().min(1).max(200).optional(),
  })
  .strict()
  .superRefine((router, ctx) => {
    if ((router.password === undefined) === (router.passwordFile === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'give exactly one of password and passwordFile' });
    }
  });

/** The config file as written. */
export const AgentConfigFile = z
  .object({
    routers: z.array(RouterEntry).max(500),
    controllers: z
      .array(z.url({ protocol: /^(https?|wss?)$/, error: 'expected an http(s):// or ws(s):// URL' }))
      .max(16)
      .default([]),
    logLevel: z.enum(LOG_LEVELS).default('info'),
    healthIntervalSeconds: z.number().int().min(5).max(3600).default(30),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.routers.forEach((router, i) => {
      if (seen.has(router.name)) ctx.addIssue({ code: 'custom', path: ['routers', i, 'name'], message: `router name "${router.name}" is used twice` });
      seen.add(router.name);
    });
  });

/** The agent's settings, secrets resolved, ready to run. */
export interface AgentConfig {
  routers: RouterConfig[];
  /** Controller URLs to fail over to, beside the enrolled one (http(s) base or ws(s) URL). */
  controllers?: string[];
  logLevel: LogLevel;
  healthIntervalSeconds: number;
}

/** Environment the agent reads (SPEC section 2). */
const AgentEnv = z.object({
  MTANDAO_AGENT_CONFIG: z.string().min(1, 'must not be empty').optional(),
  MTANDAO_ROUTER_HOST: z.string().min(1, 'must not be empty').optional(),
  MTANDAO_AGENT_STATE_DIR: z.string().min(1, 'must not be empty').optional(),
  MTANDAO_DATA_DIR: z.string().min(1, 'must not be empty').optional(),
});

/** A bad config file or environment; `issues` names every bad key. */
export class ConfigError extends Error {
  readonly issues: string[];
  constructor(source: string, issues: string[]) {
    super(`${source}:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

const formatPath = (path: PropertyKey[]): string =>
  path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');

/** One line per problem, each naming its key (`routers[0].port: …`, `routers[1].pasword: unknown key`). */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => `${formatPath([...issue.path, key])}: unknown key`)
      : [`${formatPath(issue.path) || '(top level)'}: ${issue.message}`],
  );
}

/** Where the agent keeps its state and finds its config: flags win over the environment. */
export function resolvePaths(flags: { config?: string; stateDir?: string }, env: NodeJS.ProcessEnv = process.env): { stateDir: string; configPath: string } {
  const parsed = AgentEnv.safeParse(env);
  if (!parsed.success) throw new ConfigError('bad environment', formatIssues(parsed.error.issues));
  const e = parsed.data;
  const stateDir = resolve(flags.stateDir ?? e.MTANDAO_AGENT_STATE_DIR ?? join(e.MTANDAO_DATA_DIR ?? './data', 'agent'));
  const configPath = resolve(flags.config ?? e.MTANDAO_AGENT_CONFIG ?? join(stateDir, 'config.json'));
  return { stateDir, configPath };
}

/** Checks a config object; `baseDir` anchors relative `passwordFile` paths. */
export async function parseAgentConfig(raw: unknown, options: { baseDir: string; source?: string }): Promise<AgentConfig> {
  const source = options.source ?? 'agent config';
  const parsed = AgentConfigFile.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`bad ${source}`, formatIssues(parsed.error.issues));
  const problems: string[] = [];
  const routers = await Promise.all(
    parsed.data.routers.map(async (router, i): Promise<RouterConfig> => {
      const { passwordFile, password, port, ...rest } = router;
      let secret = password ?? '';
      if (passwordFile !== undefined) {
        const path = resolve(options.baseDir, passwordFile);
        try {
          secret = (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
          if (secret === '') problems.push(`routers[${i}].passwordFile: ${path} is empty`);
        } catch (err) {
          problems.push(`routers[${i}].passwordFile: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
        }
      }
      return { ...rest, port: port ?? DEFAULT_PORTS[router.transport], password: secret };
    }),
  );
  if (problems.length > 0) throw new ConfigError(`bad ${source}`, problems);
  return { routers, controllers: parsed.data.controllers, logLevel: parsed.data.logLevel, healthIntervalSeconds: parsed.data.healthIntervalSeconds };
}

/**
 * One router from the environment, for an agent without a config file (a RouterOS container on
 * the router it manages): MTANDAO_ROUTER_HOST, _NAME, _USERNAME, _PASSWORD or _PASSWORD_FILE,
 * _TRANSPORT (api), _PORT; MTANDAO_LOG_LEVEL; MTANDAO_CONTROLLERS (comma-separated failover URLs).
 */
export function configFromEnv(env: NodeJS.ProcessEnv): unknown {
  const port = env.MTANDAO_ROUTER_PORT === undefined ? undefined : Number(env.MTANDAO_ROUTER_PORT);
  const router = {
    name: env.MTANDAO_ROUTER_NAME,
    host: env.MTANDAO_ROUTER_HOST,
    transport: env.MTANDAO_ROUTER_TRANSPORT ?? 'api',
    username: env.MTANDAO_ROUTER_USERNAME,
    ...(port === undefined ? {} : { port }),
    ...(env.MTANDAO_ROUTER_PASSWORD_FILE ? { passwordFile: env.MTANDAO_ROUTER_PASSWORD_FILE } : { password: env.MTANDAO_ROUTER_PASSWORD }),
  };
  const controllers = (env.MTANDAO_CONTROLLERS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return { routers: [router], controllers, ...(env.MTANDAO_LOG_LEVEL ? { logLevel: env.MTANDAO_LOG_LEVEL } : {}) };
}

/** Reads and checks the config file (or, when there is none and MTANDAO_ROUTER_HOST is set, the one-router environment). */
export async function loadAgentConfig(path: string, env: NodeJS.ProcessEnv = {}): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && env.MTANDAO_ROUTER_HOST)
      return parseAgentConfig(configFromEnv(env), { baseDir: process.cwd(), source: 'agent config from MTANDAO_ROUTER_* (no config file)' });
    const hint =
      code === 'ENOENT' ? 'it does not exist (pass --config FILE or set MTANDAO_AGENT_CONFIG)' : `cannot read it (${code ?? (err as Error).message})`;
    throw new ConfigError(`agent config ${path}`, [hint]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`agent config ${path}`, [`not valid JSON: ${(err as Error).message}`]);
  }
  return parseAgentConfig(raw, { baseDir: dirname(path), source: `agent config ${path}` });
}
