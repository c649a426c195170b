import { performance } from 'node:perf_hooks';

/**
 * The emulated router's one CPU: commands run in the order they arrive, and each write occupies it
 * for `opCostMs`, so writes from every connection and transport queue behind each other as they do
 * on a real router. Reads cost nothing but still wait for the writes ahead of them, so a print
 * sent after an add sees it. With no cost configured and nothing queued, a command runs at once.
 */
export class RouterCpu {
  private queue: { at: number; run: () => void }[] = [];
  private head = 0;
  private busyUntil = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opCostMs: () => number) {}

  /** Runs `run` when the CPU gets to it. */
  submit(write: boolean, run: () => void): void {
    const now = performance.now();
    const cost = write ? this.opCostMs() : 0;
    if (this.head === this.queue.length && this.busyUntil <= now && cost === 0) {
      run();
      return;
    }
    const start = Math.max(now, this.busyUntil);
    this.busyUntil = start + cost;
    this.queue.push({ at: this.busyUntil, run });
    this.arm();
  }

  /** Forgets queued work (the router went down). */
  clear(): void {
    this.queue = [];
    this.head = 0;
    this.busyUntil = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.timer || this.head === this.queue.length) return;
    const wait = Math.max(0, (this.queue[this.head]?.at ?? 0) - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, wait);
  }

  private drain(): void {
    // Timers fire with millisecond grain: run everything due within half a millisecond.
    const now = performance.now() + 0.5;
    while (this.head < this.queue.length && (this.queue[this.head]?.at ?? 0) <= now) this.queue[this.head++]?.run();
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
    this.arm();
  }
}
