import type { SmsTemplateKind, SmsTemplates } from '@mtandao/protocol/api';

/** The placeholders a template may use; anything else in braces is left as written. */
export const SMS_PLACEHOLDERS = ['name', 'username', 'account', 'amount', 'balance', 'plan', 'expiry', 'paybill', 'company'] as const;
/** One placeholder. */
export type SmsPlaceholder = (typeof SMS_PLACEHOLDERS)[number];
/** The values of one message. */
export type SmsVars = Record<SmsPlaceholder, string>;

/** The templates an ISP starts with. */
export const DEFAULT_SMS_TEMPLATES: SmsTemplates = {
  paymentDetails: 'Dear {name}, your {company} {plan} account is {account}. Pay {amount} via M-Pesa Paybill {paybill}, account {account}.',
  paymentReceived: 'Dear {name}, we received {amount} for account {account}. Balance {balance}. {plan} active until {expiry}. {company}',
  expiryReminder: 'Dear {name}, your {company} {plan} expires on {expiry}. Pay {amount} via M-Pesa Paybill {paybill}, account {account}, to stay connected.',
  expired: 'Dear {name}, your {company} {plan} expired on {expiry}. Pay {amount} via M-Pesa Paybill {paybill}, account {account}, to reconnect.',
  welcome: 'Welcome to {company}, {name}! Your account number is {account} and your plan is {plan}. Pay via M-Pesa Paybill {paybill}.',
};

/** The kinds in the order staff see them. */
export const SMS_TEMPLATE_KINDS: readonly SmsTemplateKind[] = ['paymentDetails', 'paymentReceived', 'expiryReminder', 'expired', 'welcome'];

/** Fills a template's placeholders; unknown ones stay as written so a typo is visible in the preview. */
export function renderSms(template: string, vars: SmsVars): string {
  return template
    .replace(/\{([a-z]+)\}/g, (whole, key: string) => ((SMS_PLACEHOLDERS as readonly string[]).includes(key) ? vars[key as SmsPlaceholder] : whole))
    .trim();
}

/** Placeholders in braces that are not ones we know (shown as a warning beside the editor). */
export function unknownPlaceholders(template: string): string[] {
  const out = new Set<string>();
  for (const m of template.matchAll(/\{([a-zA-Z_]+)\}/g)) if (!(SMS_PLACEHOLDERS as readonly string[]).includes(m[1]!)) out.add(m[1]!);
  return [...out];
}

/** The first word of a full name: SMS greet people by it. */
export function firstName(fullName: string): string {
  return fullName.trim().split(/\s+/)[0] ?? fullName;
}

// building a DateTimeFormat costs far more than using one: a sweep formats thousands of dates
const formatters = new Map<string, Intl.DateTimeFormat>();

/** An expiry time as customers read it, in the ISP's time zone: "31 Jan 2027 14:05". */
export function formatExpiry(at: Date | null, timeZone: string): string {
  if (!at) return '-';
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, day: '2-digit', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  const parts = f.formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('day')} ${get('month')} ${get('year')} ${get('hour')}:${get('minute')}`;
}

/** Sample values for the live preview. */
export const SAMPLE_SMS_VARS = (company: string, paybill: string | null, currency: string, timeZone: string): SmsVars => ({
  name: 'Achieng',
  username: 'achieng.otieno',
  account: 'ACH1001',
  amount: `${currency} 1,500.00`,
  balance: `${currency} 200.00`,
  plan: 'Home 10 Mbps',
  expiry: formatExpiry(new Date(Date.UTC(2027, 0, 31, 11, 5)), timeZone),
  paybill: paybill ?? '000000',
  company,
});
