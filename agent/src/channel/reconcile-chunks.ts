import type { CustomerSpec, PlanSpec, TypedEnvelope } from '@mtandao/protocol';

type ReconcileEnvelope = TypedEnvelope<'router.reconcile'>;

/** What adding a chunk led to. */
export type GatherResult =
  | { kind: 'buffered'; buffered: number; count: number }
  | { kind: 'complete'; merged: ReconcileEnvelope; chunkIds: string[] }
  | { kind: 'incomplete'; missing: number[] }
  | { kind: 'mismatch'; message: string };

interface ChunkSet {
  router: string;
  count: number;
  startedAt: number;
  chunks: Map<number, ReconcileEnvelope>;
}

/**
 * Gathers the chunks of a `router.reconcile` by `reconcileId`. The chunk that completes the set
 * yields one merged envelope (its own id and seq, every plan and customer of the set); the last
 * index arriving while earlier ones are missing ends the set as incomplete. Sets that wait longer
 * than `staleMs` are dropped by `sweep`.
 */
export class ReconcileGatherer {
  private readonly sets = new Map<string, ChunkSet>();
  constructor(private readonly staleMs: number) {}

  /** Number of sets still gathering. */
  get open(): number {
    return this.sets.size;
  }

  add(envelope: ReconcileEnvelope, acceptedAt = Date.now()): GatherResult {
    const { reconcileId, router, chunk } = envelope.payload;
    let set = this.sets.get(reconcileId);
    if (set && (set.router !== router || set.count !== chunk.count)) {
      return {
        kind: 'mismatch',
        message: `reconcile ${reconcileId} was announced as ${set.count} chunks for router ${set.router}; this chunk says ${chunk.count} for ${router}`,
      };
    }
    if (chunk.index >= chunk.count) return { kind: 'mismatch', message: `chunk index ${chunk.index} is not below its count ${chunk.count}` };
    if (!set) {
      set = { router, count: chunk.count, startedAt: acceptedAt, chunks: new Map() };
      this.sets.set(reconcileId, set);
    }
    set.chunks.set(chunk.index, envelope);
    if (set.chunks.size === set.count) {
      this.sets.delete(reconcileId);
      return { kind: 'complete', merged: merge(envelope, set), chunkIds: [...set.chunks.values()].map((c) => c.id) };
    }
    if (chunk.index === set.count - 1) {
      this.sets.delete(reconcileId);
      const missing = Array.from({ length: set.count }, (_, i) => i).filter((i) => !set.chunks.has(i));
      return { kind: 'incomplete', missing };
    }
    return { kind: 'buffered', buffered: set.chunks.size, count: set.count };
  }

  /** Drops sets older than `staleMs`; returns their reconcile ids. */
  sweep(now = Date.now()): string[] {
    const stale = [...this.sets].filter(([, set]) => now - set.startedAt > this.staleMs).map(([id]) => id);
    for (const id of stale) this.sets.delete(id);
    return stale;
  }
}

/** One envelope standing for the whole set; later chunks win where a plan or customer repeats. */
function merge(last: ReconcileEnvelope, set: ChunkSet): ReconcileEnvelope {
  const plans = new Map<string, PlanSpec>();
  const customers = new Map<string, CustomerSpec>();
  for (let i = 0; i < set.count; i += 1) {
    const payload = set.chunks.get(i)!.payload;
    for (const plan of payload.plans) plans.set(plan.planId, plan);
    for (const customer of payload.customers) customers.set(customer.customerId, customer);
  }
  return {
    ...last,
    payload: { ...last.payload, chunk: { index: 0, count: 1 }, plans: [...plans.values()], customers: [...customers.values()] },
  };
}
