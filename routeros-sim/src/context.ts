import type { RouterCpu } from './cpu.ts';
import type { RouterStore } from './store.ts';

/** What the emulator counts, for tests and benchmarks. */
export interface SimCounters {
  /** API and API-SSL connections accepted. */
  apiConnections: number;
  /** SSH connections accepted. */
  sshConnections: number;
  /** Successful logins, API and SSH. */
  logins: number;
  /** Refused logins, API and SSH. */
  loginFailures: number;
  /** API sentences received, `/login` included. */
  commands: number;
  /** CLI command lines run over SSH. */
  cliCommands: number;
  /** API commands received and not yet answered with `!done`, over all connections. */
  inFlight: number;
  /** The most API commands ever in flight on one connection at once. */
  maxInFlightPerConnection: number;
  /**
   * API round trips: commands that arrived while their connection had nothing unanswered. Commands
   * pipelined behind one still in flight ride on its round trip; a client that waits for a reply
   * before sending the next starts a new one.
   */
  rounds: number;
}

/** What the API and SSH front ends share. */
export interface SimContext {
  readonly store: RouterStore;
  readonly cpu: RouterCpu;
  readonly counters: SimCounters;
  /** Delay before a command's replies leave, applied per command, concurrently. */
  latencyMs(): number;
  /** RouterOS 7.18+ answers a print with no rows with `!empty`. */
  readonly emptyReply: boolean;
  /** The CLI of RouterOS 7.13+ has `:serialize`. */
  readonly hasSerialize: boolean;
  /**
   * Checks a login, honouring `refuseLogins`, and counts the attempt. `proof` is shown the real
   * password (plaintext login compares it, the pre-6.43 challenge hashes it).
   */
  checkLogin(username: string, proof: (password: string) => boolean): boolean;
}

/** Delays `send` by the configured latency (not at all when it is zero). */
export function afterLatency(ctx: SimContext, send: () => void): NodeJS.Timeout | undefined {
  const ms = ctx.latencyMs();
  if (ms <= 0) {
    send();
    return undefined;
  }
  return setTimeout(send, ms);
}
