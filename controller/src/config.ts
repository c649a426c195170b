import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const bool = z.enum(['0', '1', 'true', 'false', 'yes', 'no']).transform((v) => v === '1' || v === 'true' || v === 'yes');
const port = z.coerce.number().int().min(0).max(65535);

const EnvSchema = z.object({
  DATABASE_URL: z.string().url().optional(),
  MTANDAO_DATA_DIR: z.string().default('./data'),
  MTANDAO_CONTROLLER_PORT: port.default(8080),
  MTANDAO_CONTROLLER_HOST: z.string().default('0.0.0.0'),
  MTANDAO_DASHBOARD_PORT: port.default(3000),
  /** Public base URL agents and SMS links use; defaults to http://localhost:<port>. */
  MTANDAO_PUBLIC_URL: z.string().url().optional(),
  MTANDAO_ADMIN_PASSWORD: z.string().min(8, 'must be at least 8 characters').optional(),
  MTANDAO_DEMO: bool.default(true),
  /** 32 bytes, base64: encrypts customer passwords at rest. */
  MTANDAO_SECRET_KEY: z.string().optional(),
  /** Ed25519 private key (PKCS#8 PEM) the controller signs commands with. */
  MTANDAO_SIGNING_KEY: z.string().optional(),
  /** Origins allowed to make state-changing requests with a session cookie (comma separated). */
  MTANDAO_ALLOWED_ORIGINS: z.string().optional(),
  MTANDAO_COOKIE_SECURE: bool.default(false),
  MTANDAO_SESSION_IDLE_MINUTES: z.coerce.number().int().min(1).default(120),
  MTANDAO_SESSION_ABSOLUTE_HOURS: z.coerce.number().int().min(1).default(12),
  MTANDAO_TIMEZONE: z.string().default('Africa/Nairobi'),
  MTANDAO_CURRENCY: z.string().length(3).default('KES'),
  MTANDAO_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** How long a provisioning job is retried before it is marked failed. */
  MTANDAO_JOB_TTL_HOURS: z.coerce.number().min(0.001).default(24),
  /** Backstop polling interval of the outbox dispatcher (NOTIFY wakes it sooner). */
  MTANDAO_DISPATCH_POLL_MS: z.coerce.number().int().min(50).default(1000),
  MTANDAO_HEARTBEAT_SECONDS: z.coerce.number().min(0.1).default(15),
  MTANDAO_INSTANCE_ID: z.string().optional(),
  /** Reconcile every router of a site when its agent connects. */
  MTANDAO_RECONCILE_ON_CONNECT: bool.default(true),
  /** Failed sign-ins one client address may make in 15 minutes, whichever usernames it tries. */
  MTANDAO_LOGIN_FAILURES_PER_IP: z.coerce.number().int().min(1).default(20),
  /** log2 of scrypt's N for new staff password hashes: OWASP's 17; lower only for test runs (the controller warns). */
  MTANDAO_PASSWORD_HASH_COST: z.coerce.number().int().min(10).max(20).default(17),
  /** Every router is reconciled this often (reading only, unless it drifted); 0 turns it off. */
  MTANDAO_DRIFT_CHECK_MINUTES: z.coerce.number().min(0).max(10_080).default(15),
  /** Automatic reconciles of one router (on connect, drift check) at least this far apart. */
  MTANDAO_RECONCILE_THROTTLE_SECONDS: z.coerce.number().min(0).max(86_400).default(300),
  /** Longest wait between expiry sweeps (the leader also wakes when the next customer is due). */
  MTANDAO_EXPIRY_SWEEP_SECONDS: z.coerce.number().min(0.05).max(60).default(15),
  /** Backstop polling interval of the SMS outbox sender. */
  MTANDAO_SMS_POLL_MS: z.coerce.number().int().min(50).default(2000),
  /** Daraja's base URL; overrides the environment's (tests and the demo point it at the fake). */
  MTANDAO_DARAJA_URL: z.string().url().optional(),
  /** An STK push with no callback after this long is decided by an STK query. */
  MTANDAO_STK_QUERY_AFTER_SECONDS: z.coerce.number().min(0).default(120),
  /** How often unfinished M-Pesa work (stored confirmations, silent STK pushes) is picked up. */
  MTANDAO_MPESA_SWEEP_MS: z.coerce.number().int().min(50).default(15_000),
});

/** The controller's validated configuration. */
export type Config = {
  loginFailuresPerIp: number;
  /** log2 of scrypt's N for new staff password hashes. */
  passwordHashCost: number;
  databaseUrl: string | undefined;
  dataDir: string;
  port: number;
  host: string;
  dashboardPort: number;
  publicUrl: string;
  adminPassword: string | undefined;
  demo: boolean;
  secretKey: string | undefined;
  signingKey: string | undefined;
  allowedOrigins: string[];
  cookieSecure: boolean;
  sessionIdleMs: number;
  sessionAbsoluteMs: number;
  timezone: string;
  currency: string;
  logLevel: z.infer<typeof EnvSchema>['MTANDAO_LOG_LEVEL'];
  jobTtlMs: number;
  dispatchPollMs: number;
  heartbeatMs: number;
  instanceId: string | undefined;
  reconcileOnConnect: boolean;
  driftCheckMs: number;
  reconcileThrottleMs: number;
  expirySweepMs: number;
  smsPollMs: number;
  darajaUrl: string | undefined;
  stkQueryAfterMs: number;
  mpesaSweepMs: number;
};

/** A configuration problem, naming every bad key at once. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads `KEY` or, when `KEY_FILE` is set, the trimmed contents of that file, so secrets can come
 * from Docker/Kubernetes secret files instead of the environment.
 */
function resolveFileVars(env: NodeJS.ProcessEnv, problems: string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const key of Object.keys(EnvSchema.shape)) {
    const file = env[`${key}_FILE`];
    if (file) {
      try {
        out[key] = readFileSync(file, 'utf8').trim();
      } catch (err) {
        problems.push(`${key}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    } else if (env[key] !== undefined && env[key] !== '') {
      out[key] = env[key];
    }
  }
  return out;
}

/** Parses the environment once; throws a ConfigError naming every bad key. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const raw = resolveFileVars(env, problems);
  const parsed = EnvSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const e = parsed.data;
  const publicUrl = e.MTANDAO_PUBLIC_URL ?? `http://localhost:${e.MTANDAO_CONTROLLER_PORT}`;
  const allowedOrigins = e.MTANDAO_ALLOWED_ORIGINS
    ? e.MTANDAO_ALLOWED_ORIGINS.split(',')
        .map((o) => o.trim())
        .filter(Boolean)
    : [new URL(publicUrl).origin, `http://localhost:${e.MTANDAO_DASHBOARD_PORT}`, `http://127.0.0.1:${e.MTANDAO_DASHBOARD_PORT}`];
  return {
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(e.MTANDAO_DATA_DIR),
    port: e.MTANDAO_CONTROLLER_PORT,
    host: e.MTANDAO_CONTROLLER_HOST,
    dashboardPort: e.MTANDAO_DASHBOARD_PORT,
    publicUrl,
    adminPassword: e.MTANDAO_ADMIN_PASSWORD,
    demo: e.MTANDAO_DEMO,
    secretKey: e.MTANDAO_SECRET_KEY,
    signingKey: e.MTANDAO_SIGNING_KEY,
    allowedOrigins,
    cookieSecure: e.MTANDAO_COOKIE_SECURE,
    sessionIdleMs: e.MTANDAO_SESSION_IDLE_MINUTES * 60_000,
    sessionAbsoluteMs: e.MTANDAO_SESSION_ABSOLUTE_HOURS * 3_600_000,
    timezone: e.MTANDAO_TIMEZONE,
    currency: e.MTANDAO_CURRENCY,
    logLevel: e.MTANDAO_LOG_LEVEL,
    jobTtlMs: e.MTANDAO_JOB_TTL_HOURS * 3_600_000,
    dispatchPollMs: e.MTANDAO_DISPATCH_POLL_MS,
    heartbeatMs: e.MTANDAO_HEARTBEAT_SECONDS * 1000,
    instanceId: e.MTANDAO_INSTANCE_ID,
    reconcileOnConnect: e.MTANDAO_RECONCILE_ON_CONNECT,
    loginFailuresPerIp: e.MTANDAO_LOGIN_FAILURES_PER_IP,
    passwordHashCost: e.MTANDAO_PASSWORD_HASH_COST,
    driftCheckMs: e.MTANDAO_DRIFT_CHECK_MINUTES * 60_000,
    reconcileThrottleMs: e.MTANDAO_RECONCILE_THROTTLE_SECONDS * 1000,
    expirySweepMs: Math.round(e.MTANDAO_EXPIRY_SWEEP_SECONDS * 1000),
    smsPollMs: e.MTANDAO_SMS_POLL_MS,
    darajaUrl: e.MTANDAO_DARAJA_URL,
    stkQueryAfterMs: e.MTANDAO_STK_QUERY_AFTER_SECONDS * 1000,
    mpesaSweepMs: e.MTANDAO_MPESA_SWEEP_MS,
  };
}
