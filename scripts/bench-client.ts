// An HTTP client in its own process, so the controller's event loop is not also driving the load.
// Reads a job from BENCH_CLIENT and prints one JSON line of timings.
interface Job {
  base: string;
  cookie: string;
  /** URL paths to GET in turn, after `warmup` of them. */
  paths: string[];
  warmup: number;
}
const job = JSON.parse(process.env.BENCH_CLIENT ?? '{}') as Job;
const times: number[] = [];
let results = 0;
for (const [i, p] of job.paths.entries()) {
  const t = performance.now();
  const res = await fetch(`${job.base}${p}`, { headers: { cookie: job.cookie } });
  const body = (await res.json()) as { ips?: unknown[] };
  if (!res.ok) throw new Error(`GET ${p}: ${res.status} ${JSON.stringify(body)}`);
  if (i >= job.warmup) {
    times.push(performance.now() - t);
    results += body.ips?.length ?? 0;
  }
}
process.stdout.write(`${JSON.stringify({ times, results })}\n`);
