import * as z from 'zod';
import { blankAsAbsent, Flag, OptionalId } from './common.ts';

/** How the customer list can be ordered. */
export const CustomerSort = z.enum(['newest', 'name', 'expiry', 'balance'], { error: 'sort must be newest, name, expiry or balance' });
/** A customer list order. */
export type CustomerSort = z.infer<typeof CustomerSort>;

/**
 * The customer list's deeper filters, sorts and export (`GET /customers?…`): by site, router,
 * expiring within N days, owing; sorted by name, expiry or balance; `format=csv` exports every
 * matching row in the import template's columns (no passwords).
 */
export const CustomerListDepth = z.object({
  siteId: OptionalId('Site'),
  routerId: OptionalId('Router'),
  /** Active customers whose expiry falls by the end of the N-th day from today (ISP time zone); 0 = today. */
  expiringWithinDays: blankAsAbsent(
    z.coerce
      .number({ error: 'expiringWithinDays must be a number' })
      .int('expiringWithinDays must be a whole number of days')
      .min(0, 'expiringWithinDays must be 0 or more')
      .max(366, 'expiringWithinDays is at most 366'),
  ),
  /** Only customers with a negative balance (debt). */
  owing: blankAsAbsent(Flag('owing')),
  sort: blankAsAbsent(CustomerSort),
  order: blankAsAbsent(z.enum(['asc', 'desc'], { error: 'order must be asc or desc' })),
  format: blankAsAbsent(z.enum(['json', 'csv'], { error: 'format must be json or csv' })),
  /** With `format=csv`: fill the password column (admins only; audited). */
  passwords: blankAsAbsent(Flag('passwords')),
});

/**
 * Export columns: the import template's (help/import-customers.md) and the expiry, so an export
 * imports again as it is. The password column is filled only for admins asking `passwords=true`.
 */
export const CUSTOMER_CSV_COLUMNS = [
  'full_name',
  'phone',
  'username',
  'password',
  'plan_name',
  'connection_type',
  'email',
  'ip_address',
  'account_number',
  'expires_at',
] as const;
