import { randomBytes } from 'node:crypto';
import type { BillingSettingsView, SettingsView, SmsTemplateSettings, SmsTemplates } from '@mtandao/protocol/api';
import { DEFAULT_SMS_TEMPLATES } from '../domain/sms-templates.ts';
import { DEFAULT_BILLING_SETTINGS, type BillingSettings } from '../domain/billing.ts';
import type { Config } from '../config.ts';
import type { RequestMeta } from '../http/route.ts';
import type { SettingsRepository } from '../repositories/settings.repository.ts';
import type { AuditService } from './audit.service.ts';
import type { Database } from '../db/database.ts';
import type { SecretBox } from '../lib/secrets.ts';

const AT_KEY_AAD = 'mtandao:settings:africastalking.apiKey';

/** Everything the SMS provider needs, decrypted. */
export interface SmsSettings {
  provider: 'log' | 'africastalking';
  companyName: string;
  paybillNumber: string | null;
  africastalking: { username: string | null; apiKey: string | null; senderId: string | null; baseUrl: string | null };
}

/** ISP-wide settings; secrets are encrypted at rest and never read back. */
export class SettingsService {
  private billingCache: { value: BillingSettings; at: number } | undefined;

  constructor(
    private readonly db: Database,
    private readonly repo: SettingsRepository,
    private readonly audit: AuditService,
    private readonly secretBox: SecretBox,
    private readonly config: Pick<Config, 'currency' | 'timezone'>,
  ) {}

  async sms(): Promise<SmsSettings> {
    const all = await this.repo.all();
    const enc = all.get('africastalking.apiKey');
    return {
      provider: all.get('sms.provider') === 'africastalking' ? 'africastalking' : 'log',
      companyName: (all.get('companyName') as string | undefined) ?? 'Mtandao ISP',
      paybillNumber: (all.get('paybillNumber') as string | undefined) ?? null,
      africastalking: {
        username: (all.get('africastalking.username') as string | undefined) ?? null,
        apiKey: typeof enc === 'string' ? this.secretBox.decrypt(enc, AT_KEY_AAD) : null,
        senderId: (all.get('africastalking.senderId') as string | undefined) ?? null,
        baseUrl: (all.get('africastalking.baseUrl') as string | undefined) ?? null,
      },
    };
  }

  /** Templates and schedule of the automatic SMS (defaults for what was never saved). */
  async smsTemplates(): Promise<SmsTemplateSettings> {
    const all = await this.repo.all();
    const saved = (all.get('sms.templates') as Partial<SmsTemplates> | undefined) ?? {};
    const days = all.get('sms.reminderDays');
    return {
      templates: { ...DEFAULT_SMS_TEMPLATES, ...saved },
      reminderDays: Array.isArray(days) ? (days as number[]) : [3, 1],
      welcomeEnabled: all.get('sms.welcomeEnabled') === true,
      receiptsEnabled: all.get('sms.receiptsEnabled') !== false,
    };
  }

  async updateSmsTemplates(
    meta: RequestMeta,
    input: {
      templates?: Partial<SmsTemplates> | undefined;
      reminderDays?: number[] | undefined;
      welcomeEnabled?: boolean | undefined;
      receiptsEnabled?: boolean | undefined;
    },
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      const current = await this.smsTemplates();
      const set = (k: string, v: unknown) => this.repo.set(k, v, meta.actor.userId, tx);
      if (input.templates) await set('sms.templates', { ...current.templates, ...input.templates });
      // largest first, no repeats: the sweep picks the smallest window a customer is in
      if (input.reminderDays)
        await set(
          'sms.reminderDays',
          [...new Set(input.reminderDays)].sort((a, b) => b - a),
        );
      if (input.welcomeEnabled !== undefined) await set('sms.welcomeEnabled', input.welcomeEnabled);
      if (input.receiptsEnabled !== undefined) await set('sms.receiptsEnabled', input.receiptsEnabled);
      await this.audit.record(meta, 'settings.sms-templates', 'settings', null, input as Record<string, unknown>, tx);
    });
  }

  /** The unguessable token of the delivery-report URL, made on first use. */
  async deliveryReportToken(): Promise<string> {
    const all = await this.repo.all();
    const have = all.get('sms.deliveryReportToken');
    if (typeof have === 'string') return have;
    return String(await this.repo.setIfAbsent('sms.deliveryReportToken', randomBytes(24).toString('base64url')));
  }

  async get(): Promise<SettingsView> {
    const s = await this.sms();
    return {
      paybillNumber: s.paybillNumber,
      companyName: s.companyName,
      currency: this.config.currency,
      timezone: this.config.timezone,
      smsProvider: s.provider,
      africastalking: {
        username: s.africastalking.username,
        apiKeySet: Boolean(s.africastalking.apiKey),
        senderId: s.africastalking.senderId,
        baseUrl: s.africastalking.baseUrl,
      },
    };
  }

  async update(
    meta: RequestMeta,
    input: {
      paybillNumber?: string | undefined;
      companyName?: string | undefined;
      smsProvider?: 'log' | 'africastalking' | undefined;
      africastalking?: { username: string; apiKey?: string | undefined; senderId?: string | null | undefined; baseUrl?: string | null | undefined } | undefined;
    },
  ): Promise<SettingsView> {
    await this.db.transaction(async (tx) => {
      const set = (k: string, v: unknown) => this.repo.set(k, v, meta.actor.userId, tx);
      if (input.paybillNumber !== undefined) await set('paybillNumber', input.paybillNumber);
      if (input.companyName !== undefined) await set('companyName', input.companyName);
      if (input.smsProvider !== undefined) await set('sms.provider', input.smsProvider);
      const at = input.africastalking;
      if (at) {
        await set('africastalking.username', at.username);
        if (at.apiKey) await set('africastalking.apiKey', this.secretBox.encrypt(at.apiKey, AT_KEY_AAD));
        if (at.senderId !== undefined) await set('africastalking.senderId', at.senderId ?? null);
        if (at.baseUrl !== undefined) await set('africastalking.baseUrl', at.baseUrl ?? null);
      }
      await this.audit.record(meta, 'settings.update', 'settings', null, input as Record<string, unknown>, tx);
    });
    return this.get();
  }

  /** Billing rules' settings, cached briefly (every payment and the expiry engine read them). */
  async billing(): Promise<BillingSettings> {
    const hit = this.billingCache;
    if (hit && Date.now() - hit.at < BILLING_CACHE_MS) return hit.value;
    const all = await this.repo.all();
    const d = DEFAULT_BILLING_SETTINGS;
    const grace = all.get('billing.graceHours');
    const change = all.get('billing.changePlanDefault');
    const value: BillingSettings = {
      autoRenew: typeof all.get('billing.autoRenew') === 'boolean' ? (all.get('billing.autoRenew') as boolean) : d.autoRenew,
      graceHours: typeof grace === 'number' && Number.isInteger(grace) && grace >= 0 && grace <= 720 ? grace : d.graceHours,
      changePlanDefault: change === 'now' || change === 'next-renewal' ? change : d.changePlanDefault,
    };
    this.billingCache = { value, at: Date.now() };
    return value;
  }

  async updateBilling(meta: RequestMeta, input: Partial<BillingSettingsView>): Promise<BillingSettingsView> {
    await this.db.transaction(async (tx) => {
      if (input.autoRenew !== undefined) await this.repo.set('billing.autoRenew', input.autoRenew, meta.actor.userId, tx);
      if (input.graceHours !== undefined) await this.repo.set('billing.graceHours', input.graceHours, meta.actor.userId, tx);
      if (input.changePlanDefault !== undefined) await this.repo.set('billing.changePlanDefault', input.changePlanDefault, meta.actor.userId, tx);
      await this.audit.record(meta, 'settings.billing.update', 'settings', null, input as Record<string, unknown>, tx);
    });
    this.billingCache = undefined;
    return this.billing();
  }
}

/** How long billing settings are cached; another instance's change shows within this. */
const BILLING_CACHE_MS = 5_000;
