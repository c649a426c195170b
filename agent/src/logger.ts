import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/** Levels the config file and the CLI accept. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const satisfies readonly LevelWithSilent[];
/** A log level name. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Paths pino blanks before a line is written. The agent never logs these objects on purpose;
 * this is the net under that rule (router passwords, the enrolment token, the private key).
 */
const REDACT_PATHS = [
  'password',
  'token',
  'privateKey',
  '*.password',
  '*.token',
  '*.privateKey',
  'routers[*].password',
  'config.routers[*].password',
  'router.password',
  'headers["x-mtandao-signature"]',
];

/** The agent's pino logger: JSON lines on stdout (or `destination`), secrets redacted. */
export function createLogger(options: { level?: LogLevel; destination?: DestinationStream; base?: Record<string, unknown> } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'mtandao-agent', ...options.base },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
