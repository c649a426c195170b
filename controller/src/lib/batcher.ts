/**
 * Group commit for one statement: calls that arrive while earlier ones are being written go out
 * together as one batch, so a burst costs a few statements instead of one each.
 *
 * A lone call waits for nothing but the end of the current event-loop turn (the requests that
 * arrived in the same turn join it). At most `maxInFlight` batches run at once; calls arriving
 * meanwhile queue and form the next batch, up to `maxBatch` items each. `run` answers one outcome
 * per item, in order: an item can fail on its own without failing its neighbours.
 */
export type Outcome<O> = { ok: true; value: O } | { ok: false; error: unknown };

interface Waiting<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

export interface BatcherOptions {
  /** Batches written at once; more queue (1–2: the point is to wait while one is written). */
  maxInFlight: number;
  /** Items per batch at most. */
  maxBatch: number;
}

export class Batcher<I, O> {
  private queue: Waiting<I, O>[] = [];
  private inFlight = 0;
  private scheduled = false;
  /** Batches run and items in them, for tests and the bench. */
  readonly stats = { batches: 0, items: 0 };

  constructor(
    private readonly run: (items: I[]) => Promise<Outcome<O>[]>,
    private readonly options: BatcherOptions,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.inFlight += 1;
      this.stats.batches += 1;
      this.stats.items += batch.length;
      void this.write(batch).finally(() => {
        this.inFlight -= 1;
        this.schedule();
      });
    }
  }

  private async write(batch: Waiting<I, O>[]): Promise<void> {
    let outcomes: Outcome<O>[];
    try {
      outcomes = await this.run(batch.map((w) => w.item));
      if (outcomes.length !== batch.length) throw new Error(`a batch of ${batch.length} answered ${outcomes.length} outcomes`);
    } catch (error) {
      for (const w of batch) w.reject(error);
      return;
    }
    outcomes.forEach((o, i) => (o.ok ? batch[i]!.resolve(o.value) : batch[i]!.reject(o.error)));
  }
}

/**
 * Runs a batch as one statement (all or nothing); if it fails, runs each half on its own, and so on
 * down to single items, so that one item's conflict or bad value is that item's error alone and its
 * neighbours are still written a few together. Halves run in order: of two items that conflict with
 * each other, the earlier one wins.
 */
export async function bisectOnFailure<I, O>(items: I[], run: (batch: I[]) => Promise<O[]>): Promise<Outcome<O>[]> {
  try {
    return (await run(items)).map((value) => ({ ok: true, value }));
  } catch (error) {
    if (items.length === 1) return [{ ok: false, error }];
  }
  const half = items.length >> 1;
  const left = await bisectOnFailure(items.slice(0, half), run);
  return [...left, ...(await bisectOnFailure(items.slice(half), run))];
}
