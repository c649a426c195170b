import { pino, type Logger } from 'pino';

/** Paths pino blanks out wherever they appear: secrets are never logged. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'token',
  '*.token',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'privateKey',
  '*.privateKey',
  'secretKey',
];

/** The controller's root logger (JSON to stdout). */
export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { service: 'controller', ...base }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
}

export type { Logger };
