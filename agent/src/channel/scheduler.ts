/**
 * How a command orders against others on the same router: commands for one entity (a customer,
 * a plan) run in arrival order; a barrier (a reconcile, or a command type it does not know) waits
 * for everything before it and holds back everything after it; free commands (read-only) only
 * respect barriers.
 */
export type Ordering = { entity: string } | 'barrier' | 'free';

const settle = (): void => undefined;

/** Runs at most `limit` tasks at once, first come first served. */
class Slots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running += 1;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}

/** One router's queue: pipelined across entities, ordered within one, bounded in concurrency. */
class RouterLane {
  private barrier: Promise<void> = Promise.resolve();
  private readonly sinceBarrier = new Set<Promise<void>>();
  private readonly tails = new Map<string, Promise<void>>();
  private readonly slots: Slots;
  constructor(limit: number) {
    this.slots = new Slots(limit);
  }

  run<T>(ordering: Ordering, task: () => Promise<T>): Promise<T> {
    const after: Promise<void>[] =
      ordering === 'barrier'
        ? [this.barrier, ...this.sinceBarrier]
        : ordering === 'free'
          ? [this.barrier]
          : [this.barrier, this.tails.get(ordering.entity) ?? this.barrier];
    const result = Promise.all(after).then(() => this.slots.run(task));
    const done = result.then(settle, settle);
    if (ordering === 'barrier') {
      this.barrier = done;
      this.sinceBarrier.clear();
      this.tails.clear();
      return result;
    }
    this.sinceBarrier.add(done);
    if (ordering !== 'free') this.tails.set(ordering.entity, done);
    void done.then(() => {
      this.sinceBarrier.delete(done);
      if (ordering !== 'free' && this.tails.get(ordering.entity) === done) this.tails.delete(ordering.entity);
    });
    return result;
  }
}

/** Per-router lanes, created on first use. */
export class RouterScheduler {
  private readonly lanes = new Map<string, RouterLane>();
  constructor(private readonly concurrencyPerRouter = 256) {}

  /** Runs `task` on `router`'s lane once its ordering allows and a slot is free. */
  run<T>(router: string, ordering: Ordering, task: () => Promise<T>): Promise<T> {
    let lane = this.lanes.get(router);
    if (!lane) {
      lane = new RouterLane(this.concurrencyPerRouter);
      this.lanes.set(router, lane);
    }
    return lane.run(ordering, task);
  }
}
