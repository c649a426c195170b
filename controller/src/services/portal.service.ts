import { createHash, randomBytes } from 'node:crypto';
import { CreateCustomerRequest } from '@mtandao/protocol/api';
import { normaliseCode } from '../domain/vouchers.ts';
import { AppError } from '../errors.ts';
import type { RequestMeta } from '../http/route.ts';
import { GuessLimit } from '../lib/guess-limit.ts';
import { normaliseKenyanMobile } from '../lib/phone.ts';
import type { CustomersRepository } from '../repositories/customers.repository.ts';
import type { PortalPlanRow, PortalRepository, PurchaseRow } from '../repositories/portal.repository.ts';
import type { CustomerRegistrationService } from './customer-registration.service.ts';
import type { CustomersService } from './customers.service.ts';
import type { MpesaStkService } from './mpesa-stk.service.ts';

/** MikroTik's variables the portal carries from the router's login page to the login form. */
export const LOGIN_VARS = ['mac', 'ip', 'link-login-only', 'chap-id', 'chap-challenge', 'dst'] as const;
/** The carried variables. */
export type LoginVars = Partial<Record<(typeof LOGIN_VARS)[number], string>>;

/** Wrong voucher codes allowed per IP and per MAC in 15 minutes before a 15-minute lockout. */
export const GUESSES_ALLOWED = 5;

/** What the router's login form needs for this device. */
export interface LoginForm {
  action: string;
  username: string;
  /** PAP: the password; CHAP: md5(chap-id + password + chap-challenge) in hex. */
  password: string;
  dst: string;
}

/** `\ooo` escapes (how MikroTik writes chap-id and chap-challenge) to bytes. */
export function octalBytes(text: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const m = /^\\([0-7]{3})/.exec(text.slice(i));
    if (m) {
      out.push(parseInt(m[1]!, 8) & 0xff);
      i += 3;
    } else out.push(text.charCodeAt(i) & 0xff);
  }
  return Buffer.from(out);
}

/** The login form for a device: CHAP-hashed when the router offered a challenge. */
export function loginForm(vars: LoginVars, username: string, password: string): LoginForm {
  const chap = vars['chap-id'] && vars['chap-challenge'];
  const pw = chap
    ? createHash('md5')
        .update(Buffer.concat([octalBytes(vars['chap-id']!), Buffer.from(password, 'latin1'), octalBytes(vars['chap-challenge']!)]))
        .digest('hex')
    : password;
  return { action: vars['link-login-only'] ?? '', username, password: pw, dst: vars.dst ?? '' };
}

/** What a purchase page shows. */
export type PurchaseState =
  | { state: 'waiting' }
  | { state: 'connecting' }
  | { state: 'failed'; reason: string }
  | { state: 'paid'; login: LoginForm | null; username: string; password: string };

/** The portal's meta: purchases are the customer's own, not a staff member's. */
const PORTAL_META = (requestId: string, ip: string | undefined): RequestMeta => ({
  actor: { userId: null as unknown as string, username: 'portal', role: 'staff', via: 'token' },
  requestId,
  ip,
});

/** The captive portal: plans of a site, voucher login with guessing limits, M-Pesa purchases. */
export class PortalService {
  private readonly byIp = new GuessLimit(GUESSES_ALLOWED, 15 * 60_000, 15 * 60_000);
  private readonly byMac = new GuessLimit(GUESSES_ALLOWED, 15 * 60_000, 15 * 60_000);

  constructor(
    private readonly repo: PortalRepository,
    private readonly customersRepo: CustomersRepository,
    private readonly customers: CustomersService,
    private readonly registration: CustomerRegistrationService,
    private readonly stk: MpesaStkService,
  ) {}

  siteName(siteId: string): Promise<string | undefined> {
    return /^\d{1,18}$/.test(siteId) ? this.repo.siteExists(siteId) : Promise.resolve(undefined);
  }

  plans(siteId: string): Promise<PortalPlanRow[]> {
    return this.repo.plansOfSite(siteId);
  }

  /** A voucher code typed at the portal: the login form, or why not (guessing counted, then locked out). */
  async voucher(
    siteId: string,
    typed: string,
    who: { ip: string; mac: string },
    vars: LoginVars,
  ): Promise<{ login: LoginForm } | { error: string; status: number }> {
    const locked = Math.max(this.byIp.lockedFor(who.ip), this.byMac.lockedFor(who.mac.toUpperCase()));
    if (locked > 0) return { error: `Too many wrong codes. Try again in ${Math.ceil(locked / 60)} minutes.`, status: 429 };
    const code = normaliseCode(typed);
    const v = /^[A-Z0-9]{4,22}$/.test(code) ? await this.repo.voucherAt(siteId, code) : undefined;
    if (!v || v.status === 'revoked') {
      this.byIp.fail(who.ip);
      this.byMac.fail(who.mac.toUpperCase());
      return { error: 'That code is not valid here. Check it and try again.', status: 422 };
    }
    if (v.status === 'expired') return { error: 'That voucher has been used up or has expired.', status: 422 };
    return { login: loginForm(vars, v.code, v.code) };
  }

  /**
   * A buyer back with the details we sent by SMS (another day, another phone): checked here, so a
   * CHAP router gets the hash; wrong ones count like wrong voucher codes.
   */
  async account(
    siteId: string,
    input: { username: string; password: string },
    who: { ip: string; mac: string },
    vars: LoginVars,
  ): Promise<{ login: LoginForm } | { error: string; status: number }> {
    const locked = Math.max(this.byIp.lockedFor(who.ip), this.byMac.lockedFor(who.mac.toUpperCase()));
    if (locked > 0) return { error: `Too many wrong attempts. Try again in ${Math.ceil(locked / 60)} minutes.`, status: 429 };
    const row = /^[A-Za-z0-9._@-]{3,64}$/.test(input.username) ? await this.repo.customerAt(siteId, input.username) : undefined;
    const c = row ? await this.customersRepo.findById(String(row.id)) : null;
    const password = c ? this.customers.passwordOf(c) : undefined;
    if (!c || password === undefined || password !== input.password) {
      this.byIp.fail(who.ip);
      this.byMac.fail(who.mac.toUpperCase());
      return { error: 'Wrong username or password, or no package running. Buy one below.', status: 422 };
    }
    return { login: loginForm(vars, c.username, password) };
  }

  /** Starts an M-Pesa purchase: the buyer's hotspot customer (made on first purchase), then the prompt. */
  async buy(siteId: string, input: { planId: string; phone: string; vars: LoginVars }, requestId: string, ip: string | undefined): Promise<string> {
    const phone = normaliseKenyanMobile(input.phone);
    if (!phone) throw new AppError(422, 'Enter your M-Pesa phone number, like 0712 345 678', { field: 'phone' });
    const plan = (await this.repo.plansOfSite(siteId)).find((p) => String(p.id) === input.planId);
    if (!plan) throw new AppError(422, 'Choose a package', { field: 'planId' });
    const mac = (input.vars.mac ?? '').toUpperCase();
    const meta = PORTAL_META(requestId, ip);
    let customer = await this.repo.customerOf(phone, mac);
    if (customer?.status === 'active' && String(customer.plan_id) !== input.planId) {
      throw new AppError(
        409,
        `You already have a package running until ${customer.expires_at ? new Date(customer.expires_at).toUTCString().slice(5, 22) : 'later'}. Log in with the details we sent by SMS.`,
        { field: 'planId' },
      );
    }
    if (customer) {
      const open = await this.repo.openPurchase(siteId, String(customer.id));
      if (open) return open;
    }
    if (customer && customer.status !== 'active') await this.repo.setPlan(String(customer.id), input.planId);
    if (!customer) {
      const { username } = await this.registration.generateUsername({ phone });
      const created = await this.registration.create(
        meta,
        CreateCustomerRequest.parse({
          connectionType: 'hotspot',
          planId: input.planId,
          fullName: `Hotspot ${phone.replace(/^254/, '0')}`,
          phone,
          username,
          payment: { method: 'mpesa' },
          autoActivate: false,
        }),
      );
      customer = { id: created.id, plan_id: input.planId, status: created.status, expires_at: null };
    }
    const push = await this.stk.push(meta, String(customer.id), { phone });
    const token = randomBytes(18).toString('base64url');
    await this.repo.createPurchase({
      token,
      siteId,
      planId: input.planId,
      customerId: String(customer.id),
      checkoutRequestId: push.checkoutRequestId,
      mac,
      ip: input.vars.ip ?? null,
      login: pickVars(input.vars),
    });
    return token;
  }

  /** Where a purchase stands: waiting for the phone, failed, or paid (with the login form once the router has the user). */
  async purchase(siteId: string, token: string): Promise<PurchaseState | undefined> {
    const p: PurchaseRow | undefined = /^[\w-]{10,40}$/.test(token) ? await this.repo.purchase(siteId, token) : undefined;
    if (!p) return undefined;
    if (p.stk_status === 'pending') return { state: 'waiting' };
    if (p.stk_status !== 'paid')
      return {
        state: 'failed',
        reason:
          p.stk_status === 'cancelled'
            ? 'You cancelled the M-Pesa request.'
            : p.stk_status === 'timeout'
              ? 'The M-Pesa request timed out before you answered.'
              : `M-Pesa said: ${p.stk_result_desc ?? 'the payment failed'}.`,
      };
    if (p.customer_status !== 'active' || (p.job_status !== null && p.job_status !== 'applied')) return { state: 'connecting' };
    const c = await this.customersRepo.findById(String(p.customer_id));
    const password = c ? this.customers.passwordOf(c) : '';
    const vars = p.login as LoginVars;
    return { state: 'paid', username: p.username, password, login: vars['link-login-only'] ? loginForm(vars, p.username, password) : null };
  }
}

/** Only the known variables, trimmed, are kept. */
export function pickVars(q: Record<string, unknown>): LoginVars {
  const out: LoginVars = {};
  for (const k of LOGIN_VARS) {
    const v = q[k];
    if (typeof v === 'string' && v.length > 0 && v.length <= 2000) out[k] = v;
  }
  return out;
}
