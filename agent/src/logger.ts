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

/** The calls a per-command log makes. */
export type LineLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

type Level = 'debug' | 'info' | 'warn' | 'error';

/**
 * A child of `parent` with `bindings`, made only when a line at an enabled level is written: a
 * child logger serialises its bindings up front, which per command cost more than the command's
 * log lines at the usual levels.
 */
export function lazyChild(parent: Logger, bindings: () => Record<string, unknown>): LineLogger {
  let child: Logger | undefined;
  const at =
    (level: Level) =>
    (...args: unknown[]): void => {
      if (!parent.isLevelEnabled(level)) return;
      child ??= parent.child(bindings());
      (child[level] as (...a: unknown[]) => void)(...args);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } as LineLogger;
}
