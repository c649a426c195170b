const DAY = /^\d{4}-\d{2}-\d{2}$/;
const GROUPS = ['day', 'plan', 'method', 'staff'] as const;

/** Today in the ISP's time zone, "2026-12-01". */
export const todayIn = (timeZone: string): string =>
  new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());

/** The reports page's filters from its URL: this month so far, by day, unless told. */
export function reportFilters(q: URLSearchParams, timeZone: string) {
  const today = todayIn(timeZone);
  const day = (k: string, fallback: string) => (DAY.test(q.get(k) ?? '') ? q.get(k)! : fallback);
  const to = day('to', today);
  const groupBy = GROUPS.find((g) => g === q.get('groupBy')) ?? 'day';
  return {
    from: day('from', `${to.slice(0, 8)}01`),
    to,
    groupBy,
    date: day('date', today),
    staffId: /^\d+$/.test(q.get('staffId') ?? '') ? q.get('staffId')! : undefined,
  };
}
