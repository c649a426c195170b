import type { ValidityUnit } from '@mtandao/protocol';

/** Adds a plan's validity to a time; months are calendar months (the day clamped to the month's end). */
export function addValidity(from: Date, count: number, unit: ValidityUnit): Date {
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
