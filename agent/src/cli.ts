import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { startAgent, type AgentHandle, type AgentTiming, type Executor, type HealthProbe } from './agent.ts';
import { EnrollError, enrollAgent } from './channel/enroll.ts';
import { ConfigError, loadAgentConfig, resolvePaths } from './config.ts';
import { formatFindings, runDoctor } from './doctor.ts';
import { loadIdentity, readIdentity } from './state/identity.ts';
import { createLogger, type Logger } from './logger.ts';
import { StateDirBusyError } from './state/files.ts';
import { NotEnrolledError } from './state/identity.ts';
import { AGENT_VERSION } from './version.ts';

/** Exit codes of `mtandao-agent` (also in agent/README.md). */
export const EXIT = {
  ok: 0,
  unexpected: 1,
  /** Bad arguments, config file or environment; not enrolled; already enrolled. */
  usage: 2,
  /** The controller refused (HTTP 4xx): bad, used or expired token. */
  refused: 3,
  /** The controller could not be reached, failed (5xx) or answered something unusable. */
  unavailable: 4,
  /** `doctor` found something wrong (each problem is printed in words). */
  problems: 5,
} as const;

const USAGE = `Usage:
  mtandao-agent enroll --controller URL[,URL…] (--token TOKEN | --token-file FILE) [--state-dir DIR] [--hostname NAME] [--force]
  mtandao-agent run [--config FILE] [--state-dir DIR]
  mtandao-agent doctor [--config FILE] [--state-dir DIR]   check the controller and every router, in words
  mtandao-agent --version | --help

Environment: MTANDAO_AGENT_CONFIG (config file), MTANDAO_AGENT_STATE_DIR (state directory),
MTANDAO_DATA_DIR (the state directory defaults to \${MTANDAO_DATA_DIR:-./data}/agent).
Containers: MTANDAO_CONTROLLER_URL and MTANDAO_ENROLL_TOKEN[_FILE] enrol at the first run;
without a config file, MTANDAO_ROUTER_HOST, _NAME, _USERNAME, _PASSWORD[_FILE], _TRANSPORT, _PORT
describe the one router (agent/README.md).
Exit codes: 0 ok, 1 unexpected error, 2 usage or config error, 3 refused by the controller,
4 controller unreachable or its answer unusable, 5 doctor found a problem.
`;

/** Where the CLI writes and what it may be handed instead of the real thing (tests, the demo). */
export interface CliContext {
  stdout?: { write(text: string): unknown };
  stderr?: { write(text: string): unknown };
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  /** `run`: applies commands instead of the real drivers. */
  executor?: Executor;
  probe?: HealthProbe;
  logger?: Logger;
  timing?: Partial<AgentTiming>;
  /** `run`: called once the agent has started; stopping the handle ends `runCli`. */
  onStarted?: (handle: AgentHandle) => void;
  /** `run`: stop on SIGINT/SIGTERM (default true). */
  handleSignals?: boolean;
}

class UsageError extends Error {}

async function enroll(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      controller: { type: 'string', multiple: true },
      token: { type: 'string' },
      'token-file': { type: 'string' },
      'state-dir': { type: 'string' },
      hostname: { type: 'string' },
      force: { type: 'boolean', default: false },
    },
    strict: true,
  });
  // --controller may be repeated, or hold several URLs separated by commas (instances of one controller)
  const controllers = (values.controller ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  if (controllers.length === 0) throw new UsageError('enroll needs --controller URL');
  if ((values.token === undefined) === (values['token-file'] === undefined)) throw new UsageError('enroll needs exactly one of --token and --token-file');
  const token = values.token ?? (await readFile(values['token-file']!, 'utf8')).trim();
  const { stateDir } = resolvePaths({ stateDir: values['state-dir'] }, ctx.env);
  const identity = await enrollAgent({ controllerUrl: controllers, token, stateDir, hostname: values.hostname, force: values.force, fetch: ctx.fetch });
  ctx.stdout?.write(
    `enrolled as agent ${identity.agentId} of site ${identity.siteName} (${identity.siteId})\n` +
      `identity and key stored in ${stateDir}; controller link ${identity.websocketUrl}\n` +
      `next: mtandao-agent run --state-dir ${stateDir} --config FILE\n`,
  );
  return EXIT.ok;
}

async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, 'state-dir': { type: 'string' } }, strict: true });
  const { stateDir, configPath } = resolvePaths({ config: values.config, stateDir: values['state-dir'] }, ctx.env);
  const config = await loadAgentConfig(configPath, ctx.env);
  await enrollFromEnv(stateDir, ctx);
  const logger = ctx.logger ?? createLogger({ level: config.logLevel });
  const handle = await startAgent({ stateDir, config, logger, executor: ctx.executor, probe: ctx.probe, timing: ctx.timing });
  const stop = (signal: NodeJS.Signals): void => {
    logger.info({ signal, agentId: handle.agentId }, 'stopping');
    void handle.stop();
  };
  if (ctx.handleSignals !== false) process.once('SIGINT', stop).once('SIGTERM', stop);
  ctx.onStarted?.(handle);
  await handle.stopped;
  process.off('SIGINT', stop).off('SIGTERM', stop);
  return EXIT.ok;
}

/** `doctor`: checks the controller URL(s), this agent's identity, each router's login, version and clock. */
async function doctor(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, 'state-dir': { type: 'string' } }, strict: true });
  const { stateDir, configPath } = resolvePaths({ config: values.config, stateDir: values['state-dir'] }, ctx.env);
  const config = await loadAgentConfig(configPath, ctx.env);
  const identity = (await readIdentity(stateDir)) ? await loadIdentity(stateDir) : undefined;
  ctx.stdout?.write(`mtandao-agent doctor: config ${configPath}, state ${stateDir}\n`);
  const findings = await runDoctor({ config, identity, stateDir, fetch: ctx.fetch });
  ctx.stdout?.write(formatFindings(findings));
  return findings.some((f) => f.status === 'fail') ? EXIT.problems : EXIT.ok;
}

/**
 * A container's first start: not enrolled yet, and MTANDAO_CONTROLLER_URL (comma-separated for
 * several instances) with MTANDAO_ENROLL_TOKEN or MTANDAO_ENROLL_TOKEN_FILE set — enrol, then run.
 * Once enrolled the token (spent) is not looked at again.
 */
async function enrollFromEnv(stateDir: string, ctx: CliContext): Promise<void> {
  const env = ctx.env ?? {};
  const controllers = (env.MTANDAO_CONTROLLER_URL ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (controllers.length === 0 || (!env.MTANDAO_ENROLL_TOKEN && !env.MTANDAO_ENROLL_TOKEN_FILE)) return;
  if (await readIdentity(stateDir)) return;
  const token = env.MTANDAO_ENROLL_TOKEN ?? (await readFile(env.MTANDAO_ENROLL_TOKEN_FILE!, 'utf8')).trim();
  const identity = await enrollAgent({ controllerUrl: controllers, token, stateDir, fetch: ctx.fetch });
  ctx.stdout?.write(
    `enrolled as agent ${identity.agentId} of site ${identity.siteName} (${identity.siteId}) from MTANDAO_CONTROLLER_URL and the enrolment token\n`,
  );
}

/** Runs `mtandao-agent` with `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: string[], ctx: CliContext = {}): Promise<number> {
  const stderr = ctx.stderr ?? process.stderr;
  const context: CliContext = { stdout: process.stdout, ...ctx, stderr, env: ctx.env ?? process.env };
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'enroll':
        return await enroll(rest, context);
      case 'run':
        return await run(rest, context);
      case 'doctor':
        return await doctor(rest, context);
      case '--version':
      case 'version':
        context.stdout?.write(`${AGENT_VERSION}\n`);
        return EXIT.ok;
      case '--help':
      case '-h':
      case 'help':
        context.stdout?.write(USAGE);
        return EXIT.ok;
      default:
        throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
    }
  } catch (err) {
    return report(err, stderr);
  }
}

/** One line on stderr (never a stack for a known failure) and the exit code it deserves. */
function report(err: unknown, stderr: { write(text: string): unknown }): number {
  const say = (text: string): void => void stderr.write(`mtandao-agent: ${text}\n`);
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    say((err as Error).message);
    stderr.write(USAGE);
    return EXIT.usage;
  }
  if (err instanceof ConfigError || err instanceof NotEnrolledError) {
    say(err.message);
    return EXIT.usage;
  }
  if (err instanceof EnrollError) {
    say(err.message);
    return err.kind === 'refused' ? EXIT.refused : err.kind === 'unreachable' || err.kind === 'bad-response' ? EXIT.unavailable : EXIT.usage;
  }
  if (err instanceof StateDirBusyError) {
    say(err.message);
    return EXIT.unexpected;
  }
  if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EACCES') {
    say((err as Error).message);
    return EXIT.usage;
  }
  say(`unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return EXIT.unexpected;
}
