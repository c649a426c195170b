import { randomBytes } from 'node:crypto';
import type { SmsTemplateKind, SmsTemplateSettings, SmsTemplatesView, SmsView } from '@mtandao/protocol/api';
import type { Transaction } from 'sequelize';
import { AppError, notFound } from '../errors.ts';
import type { RequestMeta } from '../http/route.ts';
import { displayAmount } from '../domain/money.ts';
import type { CustomersRepository } from '../repositories/customers.repository.ts';
import type { CustomerFilter, CustomerListRepository } from '../repositories/customer-list.repository.ts';
import type { PlansRepository } from '../repositories/plans.repository.ts';
import type { NewSms, SmsRepository } from '../repositories/sms.repository.ts';
import { AfricasTalkingProvider, LogSmsProvider, type SmsProvider } from '../sms/providers.ts';
import type { AuditService } from './audit.service.ts';
import type { CustomersService } from './customers.service.ts';
import type { SettingsService, SmsSettings } from './settings.service.ts';
import type { SmsMessage } from '../db/models/index.ts';
import type { Database } from '../db/database.ts';
import { firstName, formatExpiry, renderSms, SAMPLE_SMS_VARS, SMS_PLACEHOLDERS, SMS_TEMPLATE_KINDS, type SmsVars } from '../domain/sms-templates.ts';

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

const view = (m: SmsMessage): SmsView => ({
  id: String(m.id),
  customerId: m.customerId ? String(m.customerId) : null,
  to: m.toPhone,
  body: m.body,
  provider: m.provider,
  status: m.status,
  providerMessageId: m.providerMessageId,
  providerStatus: m.providerStatus,
  error: m.error,
  kind: m.kind,
  attempts: m.attempts,
  failureReason: m.failureReason ?? null,
  sentAt: iso(m.sentAt),
  deliveredAt: iso(m.deliveredAt),
  createdAt: m.createdAt.toISOString(),
});

/** Builds the provider the settings name. */
export function providerFor(settings: SmsSettings): SmsProvider {
  const at = settings.africastalking;
  if (settings.provider === 'africastalking' && at.username && at.apiKey) {
    return new AfricasTalkingProvider({ username: at.username, apiKey: at.apiKey, senderId: at.senderId, baseUrl: at.baseUrl });
  }
  return new LogSmsProvider();
}

/** What a message about one customer needs to know of it. */
export interface SmsSubject {
  id: string;
  username: string;
  full_name: string;
  phone: string;
  account_number: string;
  balance_minor: string | bigint;
  expires_at: Date | null;
  plan_name: string;
  price_minor: string | bigint;
}

/** Africa's Talking delivery statuses: final ones and the failure ones. */
const AT_DELIVERED = new Set(['Success']);
const AT_FAILED = new Set(['Failed', 'Rejected', 'Expired', 'AbsentSubscriber']);

/** Settings read by hot paths are kept this long. */
const CACHE_MS = 5000;

/**
 * SMS to customers: Send Payment Details, the automatic messages (templates, reminders, receipts,
 * expired notices, welcome), bulk messages, delivery reports and the outbox staff read. Automatic
 * messages are queued in the caller's transaction; `SmsSender` delivers them.
 */
export class SmsService {
  private cache?: { at: number; sms: SmsSettings; templates: SmsTemplateSettings };
  /** Called after a commit that queued messages (the sender's in-process wake-up). */
  onQueued: () => void = () => undefined;

  constructor(
    private readonly db: Database,
    private readonly sms: SmsRepository,
    private readonly customers: CustomersRepository,
    private readonly customerList: CustomerListRepository,
    private readonly plans: PlansRepository,
    private readonly customerService: CustomersService,
    private readonly settings: SettingsService,
    private readonly audit: AuditService,
    private readonly config: { currency: string; timezone: string; publicUrl: string },
  ) {}

  /** Settings and templates, cached briefly (the sweep and every payment read them). */
  async current(fresh = false): Promise<{ sms: SmsSettings; templates: SmsTemplateSettings }> {
    if (fresh || !this.cache || Date.now() - this.cache.at > CACHE_MS) {
      this.cache = { at: Date.now(), sms: await this.settings.sms(), templates: await this.settings.smsTemplates() };
    }
    return this.cache;
  }

  /** The placeholder values of a message about a customer; `amount` defaults to what is due for one period. */
  varsFor(c: SmsSubject, s: SmsSettings, amountMinor?: bigint): SmsVars {
    const balance = BigInt(c.balance_minor);
    const due = BigInt(c.price_minor) - balance;
    return {
      name: firstName(c.full_name),
      username: c.username,
      account: c.account_number,
      amount: displayAmount(amountMinor ?? (due > 0n ? due : 0n), this.config.currency),
      balance: displayAmount(balance, this.config.currency),
      plan: c.plan_name,
      expiry: formatExpiry(c.expires_at, this.config.timezone),
      paybill: s.paybillNumber ?? '',
      company: s.companyName,
    };
  }

  /** Queues one templated message per subject in the caller's transaction; a repeated dedupe key is skipped. */
  async queueTemplated(
    tx: Transaction,
    kind: SmsTemplateKind,
    items: { subject: SmsSubject; dedupeKey: string | null; amountMinor?: bigint }[],
    createdBy: string | null = null,
  ): Promise<number> {
    if (items.length === 0) return 0;
    const { sms, templates } = await this.current();
    const provider = providerFor(sms).name;
    const rows: NewSms[] = items.map((i) => ({
      customerId: i.subject.id,
      toPhone: i.subject.phone,
      body: renderSms(templates.templates[kind], this.varsFor(i.subject, sms, i.amountMinor)),
      kind: KIND_NAMES[kind],
      dedupeKey: i.dedupeKey,
      provider,
      createdBy,
    }));
    const ids = await this.sms.enqueue(rows, tx);
    if (ids.length > 0) tx.afterCommit(() => this.onQueued());
    return ids.length;
  }

  /**
   * The payment-received receipt, queued in the payment's transaction (the ledger's
   * `onPaymentReceived` hook). At most one per ledger entry. `known` is the customer after the
   * payment when the ledger already has it (no read back of what it just wrote).
   */
  async paymentReceived(customerId: string, entryId: string, tx: Transaction, amountMinor?: bigint, known?: SmsSubject): Promise<void> {
    const { templates } = await this.current();
    if (!templates.receiptsEnabled) return;
    const subject = known ?? (await this.subject(customerId, tx));
    if (!subject) return;
    let amount = amountMinor;
    if (amount === undefined) {
      const rows = await this.db.rows<{ amount_minor: string }>('SELECT amount_minor FROM ledger_entries WHERE id = $1', [entryId], tx);
      amount = rows[0] ? BigInt(rows[0].amount_minor) : 0n;
    }
    await this.queueTemplated(tx, 'paymentReceived', [{ subject, dedupeKey: `receipt:${entryId}`, amountMinor: amount }]);
  }

  /** The welcome message of a new customer, when the setting is on. At most one per customer. */
  async welcome(customerId: string): Promise<void> {
    const { templates } = await this.current();
    if (!templates.welcomeEnabled) return;
    await this.db.transaction(async (tx) => {
      const subject = await this.subject(customerId, tx);
      if (subject) await this.queueTemplated(tx, 'welcome', [{ subject, dedupeKey: `welcome:${customerId}` }]);
    });
  }

  private async subject(customerId: string, tx?: Transaction): Promise<SmsSubject | undefined> {
    const rows = await this.db.rows<SmsSubject>(
      `SELECT c.id, c.username, c.full_name, c.phone, c.account_number, c.balance_minor, c.expires_at, p.name AS plan_name, p.price_minor
         FROM customers c JOIN plans p ON p.id = c.plan_id WHERE c.id = $1`,
      [customerId],
      tx,
    );
    return rows[0];
  }

  /**
   * Send Payment Details: the template, then the login for PPPoE/Hotspot. Sent at once (staff wait
   * for the answer); the stored copy has the password masked: no table holds it in clear.
   */
  async sendPaymentDetails(meta: RequestMeta, customerId: string): Promise<SmsView> {
    const c = await this.customers.findById(customerId);
    if (!c) throw notFound('Customer');
    const plan = (await this.plans.findById(String(c.planId)))!;
    const { sms: settings, templates } = await this.current(true);
    const subject: SmsSubject = {
      id: customerId,
      username: c.username,
      full_name: c.fullName,
      phone: c.phone,
      account_number: c.accountNumber,
      balance_minor: String(c.balanceMinor),
      expires_at: c.expiresAt,
      plan_name: plan.name,
      price_minor: String(plan.priceMinor),
    };
    const head = renderSms(templates.templates.paymentDetails, this.varsFor(subject, settings));
    const login = c.connectionType === 'static' ? '' : ` ${c.connectionType === 'pppoe' ? 'PPPoE' : 'Hotspot'} login: ${c.username}, password: `;
    const password = c.connectionType === 'static' ? '' : this.customerService.passwordOf(c);
    const body = `${head}${login}${password}`;
    const stored = `${head}${login}${password ? '••••••' : ''}`;
    const provider = providerFor(settings);
    const result = await provider.send(c.phone, body);
    const row = await this.sms.create({
      customerId,
      toPhone: c.phone,
      body: stored,
      provider: provider.name,
      status: result.status,
      providerMessageId: result.providerMessageId,
      providerStatus: result.providerStatus,
      cost: result.cost,
      error: result.error,
      kind: 'payment-details',
      attempts: 1,
      sentAt: result.status === 'failed' ? null : new Date(),
      createdBy: meta.actor.userId,
    });
    await this.audit.record(meta, 'customer.send-payment-details', 'customer', customerId, {
      smsId: String(row.id),
      provider: provider.name,
      status: result.status,
    });
    return view(row);
  }

  /**
   * A hotspot buyer's login details, sent at once (never queued: the outbox would hold the
   * password); the stored copy hides the password.
   */
  async hotspotLogin(customerId: string): Promise<void> {
    const c = await this.customers.findById(customerId);
    if (!c || c.connectionType !== 'hotspot') return;
    const plan = await this.plans.findById(String(c.planId));
    const { sms: settings } = await this.current(true);
    const head = `${settings.companyName} Wi-Fi${plan ? ` ${plan.name}` : ''}: log in with username ${c.username} password `;
    const provider = providerFor(settings);
    const result = await provider.send(c.phone, `${head}${this.customerService.passwordOf(c)}`);
    await this.sms.create({
      customerId,
      toPhone: c.phone,
      body: `${head}••••••`,
      provider: provider.name,
      status: result.status,
      providerMessageId: result.providerMessageId,
      providerStatus: result.providerStatus,
      cost: result.cost,
      error: result.error,
      kind: 'hotspot-login',
      attempts: 1,
      sentAt: result.status === 'failed' ? null : new Date(),
      createdBy: null,
    });
  }

  async list(filter: { customerId?: string | undefined; page: number; pageSize: number }) {
    const { rows, count } = await this.sms.list(filter, filter.pageSize, (filter.page - 1) * filter.pageSize);
    return { items: rows.map(view), total: count };
  }

  // templates

  async templatesView(): Promise<SmsTemplatesView> {
    const { sms, templates } = await this.current(true);
    const sample = SAMPLE_SMS_VARS(sms.companyName, sms.paybillNumber, this.config.currency, this.config.timezone);
    const preview: Record<string, string> = {};
    for (const k of SMS_TEMPLATE_KINDS) preview[k] = renderSms(templates.templates[k], sample);
    const token = await this.settings.deliveryReportToken();
    return {
      ...templates,
      placeholders: [...SMS_PLACEHOLDERS],
      preview,
      sample,
      deliveryReportUrl: `${this.config.publicUrl}/api/v1/sms/delivery-report/${token}`,
    };
  }

  async updateTemplates(meta: RequestMeta, input: Parameters<SettingsService['updateSmsTemplates']>[1]): Promise<SmsTemplatesView> {
    await this.settings.updateSmsTemplates(meta, input);
    return this.templatesView();
  }

  // bulk

  /** How many customers of the filter a message would reach, and how it reads for the first. */
  async bulkPreview(filter: CustomerFilter, message: string): Promise<{ count: number; sample: string | null }> {
    const count = await this.customerList.countMatching(filter);
    if (!message) return { count, sample: null };
    const first = await this.customerList.list(filter, 'newest', undefined, 1, 0);
    const c = first.rows[0];
    if (!c) return { count, sample: null };
    const subject = await this.subject(String(c.id));
    const { sms } = await this.current();
    return { count, sample: subject ? renderSms(message, this.varsFor(subject, sms)) : null };
  }

  /**
   * Queues a message to every customer of the filter. `confirmCount` is the count staff saw and
   * confirmed: when the list changed since, nothing is queued (409) and the new count is shown.
   */
  async bulkSend(meta: RequestMeta, filter: CustomerFilter, message: string, confirmCount: number): Promise<{ queued: number; batchId: string }> {
    const batchId = randomBytes(6).toString('hex');
    const queued = await this.db.transaction(async (tx) => {
      const subjects = await this.customerList.smsSubjects(filter, tx);
      if (subjects.length !== confirmCount) {
        throw new AppError(409, `The list now has ${subjects.length} customers, not ${confirmCount}: check it and confirm again`, { field: 'confirmCount' });
      }
      const { sms } = await this.current();
      const provider = providerFor(sms).name;
      const ids = await this.sms.enqueue(
        subjects.map((c) => ({
          customerId: String(c.id),
          toPhone: c.phone,
          body: renderSms(message, this.varsFor(c, sms)),
          kind: 'bulk',
          dedupeKey: `bulk:${batchId}:${c.id}`,
          provider,
          createdBy: meta.actor.userId,
        })),
        tx,
      );
      await this.audit.record(meta, 'sms.bulk', 'sms', batchId, { filter, count: ids.length, message }, tx);
      tx.afterCommit(() => this.onQueued());
      return ids.length;
    });
    return { queued, batchId };
  }

  // delivery reports

  /**
   * An Africa's Talking delivery report (form-encoded id, status, phoneNumber, networkCode,
   * failureReason, retryCount). A wrong token is a 404, as if the route did not exist.
   */
  async deliveryReport(token: string, body: Record<string, unknown>): Promise<{ ok: true; updated: number }> {
    const expected = await this.settings.deliveryReportToken();
    if (!timingSafeEqualText(token, expected)) throw new AppError(404, 'No such API route');
    const id = typeof body.id === 'string' ? body.id.trim() : '';
    const status = typeof body.status === 'string' ? body.status.trim() : '';
    if (!id) throw new AppError(400, 'id is required', { field: 'id' });
    if (!status) throw new AppError(400, 'status is required', { field: 'status' });
    const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim().slice(0, 200) : null);
    const updated = await this.sms.deliveryReport({
      providerMessageId: id.slice(0, 200),
      status: AT_DELIVERED.has(status) ? 'delivered' : AT_FAILED.has(status) ? 'failed' : 'sent',
      providerStatus: status.slice(0, 60),
      failureReason: text(body.failureReason),
      networkCode: text(body.networkCode),
    });
    return { ok: true, updated };
  }
}

/** Kind names as stored (the template kinds in kebab case). */
const KIND_NAMES: Record<SmsTemplateKind, string> = {
  paymentDetails: 'payment-details',
  paymentReceived: 'receipt',
  expiryReminder: 'reminder',
  expired: 'expired',
  welcome: 'welcome',
};

function timingSafeEqualText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
