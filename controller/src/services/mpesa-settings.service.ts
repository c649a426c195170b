import type { MpesaRegisterResult, MpesaSettingsView, UpdateMpesaSettingsRequest } from '@mtandao/protocol/api';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { AppError } from '../errors.ts';
import type { RequestMeta } from '../http/route.ts';
import { randomToken, type SecretBox } from '../lib/secrets.ts';
import { DARAJA_URLS, DarajaError, type DarajaClient, type DarajaCredentials } from '../mpesa/daraja-client.ts';
import type { SettingsRepository } from '../repositories/settings.repository.ts';
import type { AuditService } from './audit.service.ts';

const SECRET_KEYS = ['consumerKey', 'consumerSecret', 'passkey'] as const;
type SecretKey = (typeof SECRET_KEYS)[number];
const aad = (k: SecretKey) => `mtandao:settings:mpesa.${k}`;

/** Everything the M-Pesa code needs, secrets decrypted. */
export interface MpesaConfig {
  environment: 'sandbox' | 'production';
  shortcodeType: 'paybill' | 'till';
  shortcode: string | null;
  tillNumber: string | null;
  consumerKey: string | null;
  consumerSecret: string | null;
  passkey: string | null;
  validationPolicy: 'accept-all' | 'reject-unknown';
  allowedIps: string[];
  callbackBaseUrl: string | null;
  /** The secret last part of the three callback URLs. */
  token: string;
  darajaUrl: string;
  lastRegistration: { at: string; ok: boolean; answer: unknown } | null;
}

/** M-Pesa settings: write-only secrets encrypted at rest, callback URLs with an unguessable token. */
export class MpesaSettingsService {
  #cache: { at: number; value: Promise<MpesaConfig> } | undefined;

  constructor(
    private readonly db: Database,
    private readonly repo: SettingsRepository,
    private readonly audit: AuditService,
    private readonly secretBox: SecretBox,
    private readonly daraja: DarajaClient,
    private readonly config: Pick<Config, 'publicUrl' | 'darajaUrl'>,
  ) {}

  /** The settings, cached for a second: every callback reads them. */
  current(): Promise<MpesaConfig> {
    if (this.#cache && Date.now() - this.#cache.at < 1000) return this.#cache.value;
    const value = this.load();
    this.#cache = { at: Date.now(), value };
    value.catch(() => (this.#cache = undefined));
    return value;
  }

  private async load(): Promise<MpesaConfig> {
    let all = await this.repo.all();
    let token = all.get('mpesa.token');
    if (typeof token !== 'string') {
      // the first read makes the token; two racing controllers keep whichever landed first
      await this.repo.setIfAbsent('mpesa.token', randomToken('', 24));
      all = await this.repo.all();
      token = all.get('mpesa.token');
    }
    // a cleared setting is stored as '' (settings values are NOT NULL)
    const str = (k: string) => (typeof all.get(k) === 'string' && all.get(k) !== '' ? (all.get(k) as string) : null);
    const secret = (k: SecretKey) => {
      const enc = str(`mpesa.${k}`);
      return enc ? this.secretBox.decrypt(enc, aad(k)) : null;
    };
    const environment = str('mpesa.environment') === 'production' ? 'production' : 'sandbox';
    return {
      environment,
      shortcodeType: str('mpesa.shortcodeType') === 'till' ? 'till' : 'paybill',
      shortcode: str('mpesa.shortcode'),
      tillNumber: str('mpesa.tillNumber'),
      consumerKey: secret('consumerKey'),
      consumerSecret: secret('consumerSecret'),
      passkey: secret('passkey'),
      validationPolicy: str('mpesa.validationPolicy') === 'reject-unknown' ? 'reject-unknown' : 'accept-all',
      allowedIps: Array.isArray(all.get('mpesa.allowedIps')) ? (all.get('mpesa.allowedIps') as string[]) : [],
      callbackBaseUrl: str('mpesa.callbackBaseUrl'),
      token: token as string,
      darajaUrl: this.config.darajaUrl ?? DARAJA_URLS[environment],
      lastRegistration: (all.get('mpesa.lastRegistration') as MpesaConfig['lastRegistration'] | undefined) ?? null,
    };
  }

  /** The three callback URLs Daraja is given. */
  callbackUrls(c: MpesaConfig): MpesaSettingsView['callbackUrls'] {
    const base = `${(c.callbackBaseUrl ?? this.config.publicUrl).replace(/\/+$/, '')}/api/v1/callbacks`;
    return {
      validation: `${base}/c2b/validation/${c.token}`,
      confirmation: `${base}/c2b/confirmation/${c.token}`,
      stkCallback: `${base}/stk/callback/${c.token}`,
    };
  }

  async view(): Promise<MpesaSettingsView> {
    const c = await this.current();
    return {
      environment: c.environment,
      shortcodeType: c.shortcodeType,
      shortcode: c.shortcode,
      tillNumber: c.tillNumber,
      consumerKeySet: Boolean(c.consumerKey),
      consumerSecretSet: Boolean(c.consumerSecret),
      passkeySet: Boolean(c.passkey),
      validationPolicy: c.validationPolicy,
      allowedIps: c.allowedIps,
      callbackBaseUrl: c.callbackBaseUrl,
      darajaUrl: c.darajaUrl,
      callbackUrls: this.callbackUrls(c),
      lastRegistration: c.lastRegistration,
    };
  }

  async update(meta: RequestMeta | null, input: UpdateMpesaSettingsRequest): Promise<MpesaSettingsView> {
    await this.db.transaction(async (tx) => {
      const set = (k: string, v: unknown) => this.repo.set(`mpesa.${k}`, v, meta?.actor.userId ?? null, tx);
      if (input.environment !== undefined) await set('environment', input.environment);
      if (input.shortcodeType !== undefined) await set('shortcodeType', input.shortcodeType);
      if (input.shortcode !== undefined) await set('shortcode', input.shortcode);
      if (input.tillNumber !== undefined) await set('tillNumber', input.tillNumber ?? '');
      if (input.validationPolicy !== undefined) await set('validationPolicy', input.validationPolicy);
      if (input.allowedIps !== undefined) await set('allowedIps', input.allowedIps);
      if (input.callbackBaseUrl !== undefined) await set('callbackBaseUrl', input.callbackBaseUrl ?? '');
      for (const k of SECRET_KEYS) {
        const v = input[k];
        if (v) await set(k, this.secretBox.encrypt(v, aad(k)));
      }
      const details: Record<string, unknown> = { ...input };
      for (const k of SECRET_KEYS) if (details[k]) details[k] = 'changed';
      await this.audit.record(meta, 'settings.mpesa.update', 'settings', null, details, tx);
    });
    this.forget();
    return this.view();
  }

  /** A new callback token: the old URLs stop working at once (register the new ones). */
  async regenerateToken(meta: RequestMeta): Promise<MpesaSettingsView> {
    await this.db.transaction(async (tx) => {
      await this.repo.set('mpesa.token', randomToken('', 24), meta.actor.userId, tx);
      await this.audit.record(meta, 'settings.mpesa.regenerate-token', 'settings', null, {}, tx);
    });
    this.forget();
    return this.view();
  }

  /** Forgets the cache and the Daraja token (credentials may have changed). */
  forget(): void {
    this.#cache = undefined;
    this.daraja.forget();
  }

  /** Credentials for a Daraja call, or a 409 naming what is missing. */
  credentials(c: MpesaConfig, needPasskey: boolean): DarajaCredentials & { shortcode: string; passkey: string } {
    const missing = [
      !c.shortcode && 'shortcode',
      !c.consumerKey && 'consumer key',
      !c.consumerSecret && 'consumer secret',
      needPasskey && !c.passkey && 'passkey',
    ].filter(Boolean);
    if (missing.length > 0) throw new AppError(409, `M-Pesa is not set up: add the ${missing.join(', ')} in Settings → M-Pesa`, { field: 'mpesa' });
    return { baseUrl: c.darajaUrl, consumerKey: c.consumerKey!, consumerSecret: c.consumerSecret!, shortcode: c.shortcode!, passkey: c.passkey ?? '' };
  }

  /** Registers the validation and confirmation URLs (C2B register URL v2); Daraja's answer is kept and shown. */
  async registerUrls(meta: RequestMeta): Promise<MpesaRegisterResult> {
    const c = await this.current();
    const creds = this.credentials(c, false);
    const urls = this.callbackUrls(c);
    // Completed: if our validation URL cannot be reached, Safaricom completes the payment anyway
    // (the confirmation still arrives); Cancelled would turn customers away during an outage.
    const request = { ShortCode: creds.shortcode, ResponseType: 'Completed', ConfirmationURL: urls.confirmation, ValidationURL: urls.validation };
    let result: MpesaRegisterResult;
    try {
      const answer = await this.daraja.post(creds, '/mpesa/c2b/v2/registerurl', request, 'Register URLs');
      const ok = String(answer.ResponseCode ?? '') === '0';
      result = {
        ok,
        status: 200,
        answer,
        message: String(answer.ResponseDescription ?? (ok ? 'Success' : 'M-Pesa did not confirm the registration')),
        request,
      };
    } catch (err) {
      if (!(err instanceof DarajaError)) throw err;
      result = { ok: false, status: err.status, answer: err.answer, message: err.message, request };
    }
    await this.db.transaction(async (tx) => {
      await this.repo.set('mpesa.lastRegistration', { at: new Date().toISOString(), ok: result.ok, answer: result.answer }, meta.actor.userId, tx);
      await this.audit.record(meta, 'settings.mpesa.register-urls', 'settings', null, { ok: result.ok, message: result.message }, tx);
    });
    this.#cache = undefined;
    return result;
  }
}
