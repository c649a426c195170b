// Counts every SQL statement this process sends, whichever path it takes (Sequelize, the raw
// driver, prepared statements, LISTEN), by patching pg's Client once; with BENCH_COUNT_TEXT=1 also
// by the statement's text, for whoever wants to see which ones.
import pg from 'pg';

export interface StatementCounter {
  /** Statements sent since this process started counting. */
  readonly count: number;
  /** Statements by their first 100 characters (BENCH_COUNT_TEXT=1 only). */
  readonly byText: Map<string, number>;
  /** The most frequent texts, most first. */
  top(n: number): [string, number][];
}

let counter: (StatementCounter & { count: number }) | undefined;

/** Starts counting (once per process) and answers the counter. */
export function countStatements(): StatementCounter {
  if (counter) return counter;
  const byText = new Map<string, number>();
  const c = { count: 0, byText, top: (n: number) => [...byText].sort((a, b) => b[1] - a[1]).slice(0, n) };
  counter = c;
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    c.count++;
    if (process.env.BENCH_COUNT_TEXT) {
      const first = args[0] as string | { text?: string };
      const text = (typeof first === 'string' ? first : (first?.text ?? '')).replace(/\s+/g, ' ').slice(0, 100);
      byText.set(text, (byText.get(text) ?? 0) + 1);
    }
    return query.apply(this, args);
  } as typeof pg.Client.prototype.query;
  return c;
}
