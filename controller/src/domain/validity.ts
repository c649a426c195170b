import type { ValidityUnit } from '@mtandao/protocol';
import { invalid } from '../errors.ts';

/** No expiry lies further ahead than this: a billing date of the year 275 000 is a typo or an attack. */
export const MAX_EXPIRY_YEARS = 10;
const MAX_AHEAD_MS = MAX_EXPIRY_YEARS * 366 * 86_400_000;

/**
 * Adds a plan's validity to a time; months are calendar months (the day clamped to the month's end).
 * An expiry more than {@link MAX_EXPIRY_YEARS} years from now is refused with a 422 naming `field`.
 */
export function addValidity(from: Date, count: number, unit: ValidityUnit, field = 'count'): Date {
  const out = add(from, count, unit);
  if (!(out.getTime() <= Date.now() + MAX_AHEAD_MS)) throw invalid(field, `The expiry would be more than ${MAX_EXPIRY_YEARS} years ahead`);
  return out;
}

function add(from: Date, count: number, unit: ValidityUnit): Date {
  const d = new Date(from.getTime());
  switch (unit) {
    case 'minutes':
      return new Date(d.getTime() + count * 60_000);
    case 'hours':
      return new Date(d.getTime() + count * 3_600_000);
    case 'days':
      return new Date(d.getTime() + count * 86_400_000);
    case 'months': {
      const day = d.getUTCDate();
      d.setUTCDate(1);
      d.setUTCMonth(d.getUTCMonth() + count);
      const lastDay = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
      d.setUTCDate(Math.min(day, lastDay));
      return d;
    }
  }
}
