import type { Logger } from '../logger.ts';
import type { SmsRepository } from '../repositories/sms.repository.ts';
import { providerFor, type SmsService } from './sms.service.ts';

/** Attempts before a message is given up as failed. */
export const SMS_MAX_ATTEMPTS = 5;
/** A claimed message not settled this long is claimed again (its sender died mid-send). */
const LEASE_SECONDS = 120;
const BATCH = 20;

/** Seconds before attempt `n + 1`: 30 s, 2 min, 8 min, 32 min, jittered by up to a fifth. */
export function smsRetryDelaySeconds(attempts: number): number {
  const base = 30 * 4 ** Math.max(0, attempts - 1);
  return Math.round(base * (0.8 + Math.random() * 0.2));
}

/**
 * Delivers the SMS outbox: claims due messages (SKIP LOCKED: every instance may run one), sends
 * each through the provider the settings name at that moment, and records the outcome, retrying
 * transient failures with backoff. Woken in-process when messages are queued, else it polls.
 */
export class SmsSender {
  private timer?: NodeJS.Timeout;
  private running = false;
  private again = false;
  private stopped = false;

  constructor(
    private readonly repo: SmsRepository,
    private readonly sms: SmsService,
    private readonly logger: Logger,
    private readonly pollMs: number,
  ) {}

  start(): void {
    this.sms.onQueued = () => this.kick();
    this.timer = setInterval(() => this.kick(), this.pollMs);
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    while (this.running) await new Promise((r) => setTimeout(r, 20));
  }

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.drain()
      .catch((err) => this.logger.warn({ err }, 'sending the SMS outbox failed; will retry'))
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Sends everything due now; returns how many messages were attempted. */
  async drain(): Promise<number> {
    let total = 0;
    while (!this.stopped) {
      const claimed = await this.repo.claim(BATCH, LEASE_SECONDS);
      if (claimed.length === 0) break;
      const provider = providerFor((await this.sms.current()).sms);
      for (const m of claimed) {
        const r = await provider.send(m.to_phone, m.body);
        const retry = r.status === 'failed' && r.retryable === true && m.attempts < SMS_MAX_ATTEMPTS;
        const delay = retry ? smsRetryDelaySeconds(m.attempts) : undefined;
        await this.repo.settle(m.id, {
          status: retry ? 'queued' : r.status,
          provider: provider.name,
          providerMessageId: r.providerMessageId,
          providerStatus: r.providerStatus,
          cost: r.cost,
          error: retry ? `${r.error} (attempt ${m.attempts} of ${SMS_MAX_ATTEMPTS}; retrying in ${delay} s)` : r.error,
          ...(delay !== undefined ? { retryInSeconds: delay } : {}),
        });
        if (r.status === 'failed') this.logger.warn({ smsId: m.id, attempts: m.attempts, retry }, `SMS not sent: ${r.error}`);
      }
      total += claimed.length;
    }
    return total;
  }
}
