import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { generateSigningKeys } from '@mtandao/protocol/signing';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger, type Logger } from '../../src/logger.ts';
import { startController, type Controller } from '../../src/server.ts';
import { freshDatabase } from './database.ts';

export const ADMIN_PASSWORD = 'admin-test-password';

/** Starts a controller on a fresh database and an ephemeral port. */
export async function startTestController(
  env: Record<string, string> = {},
  options: { databaseUrl?: string; logger?: Logger } = {},
): Promise<Controller & { config: Config }> {
  const databaseUrl = options.databaseUrl ?? (await freshDatabase());
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    MTANDAO_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'mtandao-test-')),
    MTANDAO_CONTROLLER_PORT: '0',
    MTANDAO_CONTROLLER_HOST: '127.0.0.1',
    MTANDAO_ADMIN_PASSWORD: ADMIN_PASSWORD,
    MTANDAO_DEMO: '0',
    MTANDAO_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    MTANDAO_SECRET_KEY: TEST_SECRET_KEY,
    MTANDAO_SIGNING_KEY: TEST_SIGNING_KEY,
    MTANDAO_DISPATCH_POLL_MS: '200',
    // cheap staff password hashes: every test signs in, and OWASP's cost is 0.4 s of CPU a time
    // (access.test.ts keeps the real cost, where the scrypt queue itself is under test)
    MTANDAO_PASSWORD_HASH_COST: process.env.TEST_PASSWORD_HASH_COST ?? '12',
    ...env,
  });
  const controller = await startController(config, options.logger ?? createLogger(config.logLevel));
  return Object.assign(controller, { config });
}

/**
 * Keys shared by every controller of a run, so two instances (or a restarted one) on one database
 * agree. Kept on `globalThis`: a module loaded twice (static and dynamic import) still shares them.
 */
const shared = globalThis as { __mtandaoTestKeys?: { secret: string; signing: string } };
shared.__mtandaoTestKeys ??= { secret: randomBytes(32).toString('base64'), signing: generateSigningKeys().privateKey };
export const TEST_SECRET_KEY = shared.__mtandaoTestKeys.secret;
export const TEST_SIGNING_KEY = shared.__mtandaoTestKeys.signing;
