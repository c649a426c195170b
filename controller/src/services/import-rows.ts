import {
  CreateCustomerRequest,
  INVALID_PHONE_MESSAGE,
  IP_NOT_AVAILABLE_MESSAGE,
  PLAN_NOT_FOUND_MESSAGE,
  UNKNOWN_CONNECTION_TYPE_MESSAGE,
  USERNAME_EXISTS_MESSAGE,
  type ImportColumn,
} from '@mtandao/protocol/api';
import type { ConnectionType } from '@mtandao/protocol';
import { formatIp, parseIp, type Range } from '../domain/ip-space.ts';
import { normaliseKenyanMobile } from '../lib/phone.ts';
import { dayStart } from '../lib/zoned.ts';
import type { ImportPlanRow } from '../repositories/imports.repository.ts';
import { Problems, validatePlan } from './customer-checks.ts';
import { UsableSpace } from './ipam.service.ts';

// The checks of one import row (help/import-customers.md), worded like Add Customer's. Pure: what
// the database holds comes in as sets, so a file of 50 000 rows is checked with a handful of reads.

/** A row's cells by column. */
export type Cells = Partial<Record<ImportColumn, string>>;

/** A checked row, ready to be written (the IP may still be blank: allocated at commit). */
export interface CheckedRow {
  fullName: string;
  phone: string;
  email: string | null;
  username: string;
  password: string;
  planId: string;
  connectionType: ConnectionType;
  /** a chosen address with its block, or null to allocate one from the plan's pools */
  address: { networkId: string; ip: string } | null;
  accountNumber: string;
  expiresAt: Date | null;
}

/** What the database already holds of what the file names (lower-cased names, dotted IPs). */
export interface ImportContext {
  plans: Map<string, ImportPlanRow>;
  usernames: Set<string>;
  accountNumbers: Set<string>;
  ips: Set<string>;
  timezone: string;
}

/** What earlier rows of the same file claimed. */
export class FileClaims {
  readonly usernames = new Set<string>();
  readonly accountNumbers = new Set<string>();
  readonly ips = new Set<string>();
}

const ROW_ORDER = ['full_name', 'phone', 'username', 'password', 'plan_name', 'connection_type', 'email', 'ip_address', 'account_number', 'expires_at', 'row'];
const shape = CreateCustomerRequest.shape;

/** Checks one row; answers its problems (field = column name) or the row as it will be written. */
export function checkRow(cells: Cells, ctx: ImportContext, claims: FileClaims): { problems: { field: string; message: string }[]; row?: CheckedRow } {
  const problems = new Problems();
  const text = (c: ImportColumn) => (cells[c] ?? '').trim();

  const fullName = text('full_name');
  if (!fullName) problems.add('full_name', 'Full name is required');
  else if (fullName.length > 200) problems.add('full_name', 'Full name must be at most 200 characters');

  const phone = normaliseKenyanMobile(text('phone'));
  if (!phone) problems.add('phone', INVALID_PHONE_MESSAGE);

  const username = text('username');
  const usernameCheck = shape.username.safeParse(username);
  if (!usernameCheck.success) problems.add('username', usernameCheck.error.issues[0]!.message);
  else if (ctx.usernames.has(username.toLowerCase()) || claims.usernames.has(username.toLowerCase())) problems.add('username', USERNAME_EXISTS_MESSAGE);
  else if (ctx.accountNumbers.has(username.toLowerCase()) || claims.accountNumbers.has(username.toLowerCase()))
    problems.add('username', 'This username is already another customer’s account number');

  // the password lands on the router verbatim: never trimmed
  const password = cells.password ?? '';
  const passwordCheck = shape.password.safeParse(password);
  if (!password) problems.add('password', 'Password is required');
  else if (!passwordCheck.success) problems.add('password', passwordCheck.error.issues[0]!.message);

  const type = text('connection_type');
  const connectionType = type === 'pppoe' || type === 'static' ? type : undefined;
  if (!connectionType) problems.add('connection_type', UNKNOWN_CONNECTION_TYPE_MESSAGE);

  // plan names match exactly, case included
  const planRow = ctx.plans.get(text('plan_name')) ?? null;
  let plan: ImportPlanRow | undefined;
  if (!planRow) problems.add('plan_name', PLAN_NOT_FOUND_MESSAGE);
  else if (connectionType) {
    const inner = new Problems();
    plan = validatePlan(inner, planRow, connectionType);
    if (!plan) problems.add('plan_name', inner.list[0]!.message);
  }

  const emailCheck = shape.email.safeParse(text('email'));
  if (!emailCheck.success) problems.add('email', emailCheck.error.issues[0]!.message);

  let address: CheckedRow['address'] = null;
  const ipText = text('ip_address');
  if (ipText) {
    const ip = parseIp(ipText);
    if (ip === undefined) problems.add('ip_address', 'IP address must be an IPv4 address like 10.64.3.10');
    else if (plan) {
      const block = plan.blocks.find((b) =>
        new UsableSpace(
          b.cidr,
          b.gateway,
          b.reserved.map(([x, y]) => [parseIp(x)!, parseIp(y)!] as Range),
        ).contains(ip),
      );
      const dotted = formatIp(ip);
      if (!block || ctx.ips.has(dotted) || claims.ips.has(dotted)) problems.add('ip_address', IP_NOT_AVAILABLE_MESSAGE);
      else address = { networkId: block.id, ip: dotted };
    }
  }

  const account = text('account_number');
  let accountNumber = username;
  if (account && account.toLowerCase() !== username.toLowerCase()) {
    const accountCheck = /^[A-Za-z0-9._-]{1,64}$/.test(account);
    if (!accountCheck) problems.add('account_number', 'Account number may hold letters, digits, ".", "_" and "-" (at most 64)');
    else if (
      ctx.accountNumbers.has(account.toLowerCase()) ||
      claims.accountNumbers.has(account.toLowerCase()) ||
      ctx.usernames.has(account.toLowerCase()) ||
      claims.usernames.has(account.toLowerCase())
    ) {
      problems.add('account_number', 'Account number already exists');
    } else accountNumber = account;
  }

  let expiresAt: Date | null = null;
  const expiry = text('expires_at');
  if (expiry) {
    expiresAt = parseExpiry(expiry, ctx.timezone) ?? null;
    if (!expiresAt) problems.add('expires_at', 'Expiry must be a date like 2027-01-31 or 2027-01-31T18:00:00Z');
  }

  const list = [...problems.list].sort((a, b) => ROW_ORDER.indexOf(a.field) - ROW_ORDER.indexOf(b.field)).map(({ field, message }) => ({ field, message }));
  if (list.length > 0) return { problems: list };
  // what this row takes, later rows of the file cannot take again
  claims.usernames.add(username.toLowerCase());
  if (accountNumber !== username) claims.accountNumbers.add(accountNumber.toLowerCase());
  if (address) claims.ips.add(address.ip);
  return {
    problems: [],
    row: {
      fullName,
      phone: phone!,
      email: emailCheck.data ?? null,
      username,
      password,
      planId: plan!.id,
      connectionType: connectionType!,
      address,
      accountNumber,
      expiresAt,
    },
  };
}

/** An expiry cell: a full timestamp, or a local date (the end of that day in the ISP's time zone). */
function parseExpiry(text: string, timezone: string): Date | undefined {
  const day = /^(\d{4}-\d{2}-\d{2})$/.exec(text);
  if (day) {
    const next = new Date(Date.parse(`${day[1]}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const at = dayStart(next, timezone);
    return Number.isNaN(at.getTime()) ? undefined : new Date(at.getTime() - 1000);
  }
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(text)) return undefined;
  const at = new Date(text.replace(' ', 'T'));
  return Number.isNaN(at.getTime()) ? undefined : at;
}
