import pg from 'pg';
import type { Database } from '../db/database.ts';
import { MAX_CATCH_UP_PERIODS } from '../domain/billing.ts';
import type { Logger } from '../logger.ts';
import { expiredKey, reminderKey, type ExpiryRepository } from '../repositories/expiry.repository.ts';
import type { ProvisioningService } from './provisioning.service.ts';
import type { SettingsService } from './settings.service.ts';
import type { SmsService } from './sms.service.ts';

/** Session advisory lock held by the leader on its own connection. */
const LEADER_LOCK = 7_246_101;
/** Transaction advisory lock every sweep takes (a second guard, also on PGlite). */
const SWEEP_LOCK = 7_246_102;
/** Customers expired per sweep; a full batch sweeps again at once (a day of catch-up). */
const BATCH = 20_000;
/** Reminders queued per sweep. */
const REMINDER_BATCH = 5_000;

/** What one sweep did. */
export interface SweepResult {
  /** False when another instance's sweep held the lock. */
  ran: boolean;
  renewed: number;
  expired: number;
  reminders: number;
  expiredNotices: number;
  /** More due customers remain (the batch was full). */
  more: boolean;
  /** Milliseconds per step (renew, expire, notices, reminders, total). */
  ms?: Record<string, number>;
}

/**
 * The expiry engine: one leader (a session advisory lock on a dedicated connection) sweeps every
 * interval, sooner when the next expiry is near. Each sweep is one transaction of a few set-based
 * statements: auto-renewals, expiries with their router jobs and audit rows, expired notices and
 * reminders. Both notice kinds carry a unique dedupe key, so a restart or a second instance never
 * sends one twice.
 */
export class ExpiryEngine {
  private timer?: NodeJS.Timeout;
  private leaderClient?: pg.Client;
  private leader = false;
  private stopped = false;
  private sweeping?: Promise<unknown>;

  constructor(
    private readonly db: Database,
    private readonly repo: ExpiryRepository,
    private readonly settings: SettingsService,
    private readonly sms: SmsService,
    private readonly provisioning: ProvisioningService,
    private readonly logger: Logger,
    private readonly options: { intervalMs: number; databaseUrl: string | undefined; single: boolean },
  ) {}

  /** Whether this instance leads the sweeps now. */
  get isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.sweeping?.catch(() => undefined);
    await this.leaderClient?.end().catch(() => undefined);
    this.leaderClient = undefined;
    this.leader = false;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    let next = this.options.intervalMs;
    try {
      if (await this.lead()) {
        const p = this.sweep();
        this.sweeping = p;
        const r = await p;
        next = r.more ? 0 : await this.untilNextDue(next);
      }
    } catch (err) {
      this.logger.warn({ err }, 'expiry sweep failed; will retry');
    } finally {
      this.sweeping = undefined;
      this.schedule(next);
    }
  }

  /** Takes (or keeps) leadership. PGlite is one process's database: its controller always leads. */
  private async lead(): Promise<boolean> {
    if (this.options.single || !this.options.databaseUrl) return (this.leader = true);
    if (this.leaderClient && this.leader) return true;
    if (!this.leaderClient) {
      const client = new pg.Client({ connectionString: this.options.databaseUrl, application_name: 'mtandao-expiry-leader' });
      client.on('error', (err) => this.logger.warn({ err: err.message }, 'expiry leader connection failed'));
      client.on('end', () => {
        // the lock went with the session: another instance may lead now
        if (this.leader) this.logger.info('expiry leadership lost with its connection');
        this.leader = false;
        if (this.leaderClient === client) this.leaderClient = undefined;
      });
      await client.connect();
      this.leaderClient = client;
    }
    const { rows } = await this.leaderClient.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [LEADER_LOCK]);
    this.leader = rows[0]?.ok === true;
    if (this.leader) this.logger.info('this instance now leads the expiry sweeps');
    return this.leader;
  }

  /** Milliseconds until the next active customer is due (expiry + grace), capped by the interval. */
  private async untilNextDue(cap: number): Promise<number> {
    const billing = await this.billing();
    const ms = (await this.repo.msUntilNextDue(billing.graceHours * 3600)) ?? cap;
    // a little after the moment, so the customer is due when the sweep looks
    return Math.max(50, Math.min(cap, ms + 50));
  }

  private billing() {
    return this.settings.billing();
  }

  /**
   * One sweep, in one transaction. Callable directly (tests, the benchmark); the timer only calls
   * it on the leader.
   */
  async sweep(): Promise<SweepResult> {
    const t0 = performance.now();
    const ms: Record<string, number> = {};
    let mark = t0;
    const lap = (k: string) => {
      const now = performance.now();
      ms[k] = Math.round((now - mark) * 10) / 10;
      mark = now;
    };
    const billing = await this.billing();
    const { templates } = await this.sms.current();
    lap('settings');
    const result = await this.db.transaction(async (tx) => {
      if (!(await this.repo.trySweepLock(SWEEP_LOCK, tx)))
        return { ran: false, renewed: 0, expired: 0, reminders: 0, expiredNotices: 0, more: false, routerIds: [] as string[] };
      lap('lock');
      const renewal = billing.autoRenew
        ? await this.repo.autoRenew(BATCH, MAX_CATCH_UP_PERIODS, this.provisioning.jobExpiry(), tx)
        : { renewed: 0, periods: 0, routerIds: [] };
      const renewed = renewal.renewed;
      lap('renew');
      const expiry = await this.repo.expireDue(billing.graceHours * 3600, BATCH, this.provisioning.jobExpiry(), tx);
      const customers = expiry.customers;
      const routerIds = [...new Set([...renewal.routerIds, ...expiry.routerIds])];
      await this.repo.notifyOutbox(routerIds, tx);
      lap('expire');
      const expiredNotices = await this.sms.queueTemplated(
        tx,
        'expired',
        customers.map((c) => ({ subject: c, dedupeKey: expiredKey(String(c.id), new Date(c.expires_at)) })),
      );
      lap('notices');
      const due = await this.repo.reminderCandidates(templates.reminderDays, REMINDER_BATCH, tx);
      const reminders = await this.sms.queueTemplated(
        tx,
        'expiryReminder',
        due.map((c) => ({ subject: c, dedupeKey: reminderKey(String(c.id), new Date(c.expires_at), c.days) })),
      );
      lap('reminders');
      return { ran: true, renewed, expired: customers.length, reminders, expiredNotices, more: customers.length >= BATCH || renewed >= BATCH, routerIds };
    });
    lap('commit');
    ms.total = Math.round((performance.now() - t0) * 10) / 10;
    if (result.routerIds.length > 0) this.provisioning.wakeLocal(result.routerIds);
    const { routerIds: _r, ...rest } = result;
    const out = { ...rest, ms };
    if (out.expired + out.renewed + out.reminders > 0) this.logger.info(out, 'expiry sweep');
    return out;
  }
}
