import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes, type KeyObject } from 'node:crypto';
import path from 'node:path';
import { generateSigningKeys, loadPrivateKey } from '@mtandao/protocol/signing';
import { createPublicKey } from 'node:crypto';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { SecretBox } from './lib/secrets.ts';

/** The controller's keys: the customer-password box and the command signing key. */
export interface ControllerKeys {
  secretBox: SecretBox;
  signingKey: KeyObject;
  signingPublicKeyPem: string;
}

function readOrCreate(file: string, create: () => string, logger: Logger, what: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const value = create();
  writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  logger.warn({ file }, `generated a new ${what}; set it explicitly when several controllers share a database`);
  return value;
}

/**
 * Keys come from the environment (or `*_FILE`); without them they are generated once into the data
 * directory (0600), which suits the single-instance embedded default.
 */
export function loadKeys(config: Config, logger: Logger): ControllerKeys {
  const secret =
    config.secretKey ??
    readOrCreate(path.join(config.dataDir, 'secret.key'), () => randomBytes(32).toString('base64'), logger, 'customer-password encryption key');
  const key = Buffer.from(secret, 'base64');
  if (key.length !== 32) throw new Error('MTANDAO_SECRET_KEY must be 32 bytes, base64 encoded');
  const pem =
    config.signingKey ??
    readOrCreate(path.join(config.dataDir, 'signing-key.pem'), () => generateSigningKeys().privateKey.trim(), logger, 'command signing key');
  const signingKey = loadPrivateKey(pem);
  return {
    secretBox: new SecretBox(key),
    signingKey,
    signingPublicKeyPem: createPublicKey(signingKey).export({ type: 'spki', format: 'pem' }).toString(),
  };
}
