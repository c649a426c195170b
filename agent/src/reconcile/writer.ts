/**
 * The writes desired-state logic makes, each recorded as a change line (names and property names,
 * never values: a line must not carry a password) and counted for the summary.
 */
import type { ApplyResult } from '@mtandao/protocol';
import { RouterError, type RouterClient, type RouterRow, type WriteOptions } from '../drivers/types.ts';
import { label } from './model.ts';

const MAX_LINES = 200;
const MAX_LINE = 300;

/** Counts of what a reconcile found and did. */
export interface Summary {
  created: number;
  updated: number;
  removed: number;
  unchanged: number;
  kicked: number;
  conflicts: number;
  failed: number;
}

/** Whether the router said the item is already gone. */
export const isNoSuchItem = (e: unknown): boolean => e instanceof RouterError && e.category === 'trap' && /no such item/i.test(e.routerMessage ?? e.message);
/** Whether the router said the entry exists already (`… already exists`, `already have …`). */
export const isAlreadyExists = (e: unknown): boolean =>
  e instanceof RouterError && e.category === 'trap' && /already (exists|have)/i.test(e.routerMessage ?? e.message);

/** Writes through a client and keeps the record of what was written. */
export class Writer {
  readonly summary: Summary = { created: 0, updated: 0, removed: 0, unchanged: 0, kicked: 0, conflicts: 0, failed: 0 };
  /** What {@link add} created, so a command that fails afterwards can take it back. */
  readonly created: { menu: string; props: Record<string, string>; id: string }[] = [];
  private readonly lines: string[] = [];
  private dropped = 0;

  constructor(readonly client: RouterClient) {}

  /** Notes a line (the first 200 are kept). */
  note(line: string): void {
    if (this.lines.length < MAX_LINES - 1) this.lines.push(line.length > MAX_LINE ? `${line.slice(0, MAX_LINE - 1)}…` : line);
    else this.dropped++;
  }

  async add(menu: string, props: Record<string, string>): Promise<string> {
    const id = await this.client.add(menu, props);
    this.created.push({ menu, props, id });
    this.summary.created++;
    this.note(`add ${menu} ${label(menu, props)}`);
    return id;
  }

  async set(menu: string, row: RouterRow, props: Record<string, string>, why = 'set', options: WriteOptions = {}): Promise<void> {
    await this.client.set(menu, row['.id'] ?? '', props, options);
    this.summary.updated++;
    this.note(`${why} ${menu} ${label(menu, { ...row, ...props })}: ${Object.keys(props).join(', ')}`);
  }

  /** Removes an entry; one already gone counts as removed. */
  async remove(menu: string, row: RouterRow, why = 'remove'): Promise<void> {
    try {
      await this.client.remove(menu, row['.id'] ?? '');
    } catch (e) {
      if (!isNoSuchItem(e)) throw e;
    }
    if (why === 'kick') this.summary.kicked++;
    else this.summary.removed++;
    this.note(`${why} ${menu} ${label(menu, row)}`);
  }

  /** The result to report, with the summary when asked for. */
  result(withSummary = false): ApplyResult {
    const changes = this.dropped > 0 ? [...this.lines, `… and ${this.dropped} more`] : [...this.lines];
    return withSummary ? { changes, summary: { ...this.summary } } : { changes };
  }
}
