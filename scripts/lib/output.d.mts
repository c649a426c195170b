import type { Readable } from 'node:stream';

/** One readable line from a pino JSON line; other lines as they are. */
export function pretty(line: string): string | undefined;

/** Whether a line reaches the terminal when quiet: pino warnings and errors, plain stderr text. */
export function loud(line: string, isErr: boolean): boolean;

/** Splits a child's output between its log file and the terminal; the bootstrap banner goes to neither. */
export function forwardLines(
  stream: Readable,
  options: { log: (line: string) => void; print: (text: string) => void; quiet?: boolean; isErr?: boolean; onBootstrap: (password: string) => void },
): void;
