/**
 * Runs `tick` every `ms` while `active()` is true (call during component set-up). One tick at a
 * time: the next is scheduled only once the previous has finished, so a slow answer never piles up.
 */
export function poll(tick: () => Promise<void>, ms: number, active: () => boolean): void {
  $effect(() => {
    if (!active()) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const loop = async () => {
      try {
        await tick();
      } catch {
        // a missed tick is retried on the next one
      }
      if (!stopped) timer = setTimeout(loop, ms);
    };
    timer = setTimeout(loop, ms);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  });
}
