// An HTTP client in its own process, so the controller's event loop is not also driving the load.
// Modes: BENCH_CLIENT (a list of GETs, timings printed as one JSON line), or an IPC worker taking
// {t:'post'} (one POST, answered with its send time) and {t:'load'} (POSTs with N at a time).
interface GetJob {
  base: string;
  cookie: string;
  paths: string[];
  warmup: number;
}
type Msg =
  | { t: 'post'; base: string; cookie: string; path: string; body: unknown }
  | { t: 'load'; base: string; cookie: string; path: string; bodies: unknown[]; concurrency: number };

const epoch = () => performance.timeOrigin + performance.now();

async function post(base: string, cookie: string, path: string, body: unknown): Promise<number> {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  if (res.status >= 300) throw new Error(`POST ${path}: ${res.status}`);
  return res.status;
}

if (process.env.BENCH_CLIENT) {
  const job = JSON.parse(process.env.BENCH_CLIENT) as GetJob;
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
} else {
  process.on('message', async (m: Msg) => {
    try {
      if (m.t === 'post') {
        const sentAt = epoch();
        await post(m.base, m.cookie, m.path, m.body);
        process.send?.({ t: 'posted', sentAt });
      } else if (m.t === 'load') {
        const startedAt = epoch();
        let next = 0;
        await Promise.all(
          Array.from({ length: m.concurrency }, async () => {
            while (next < m.bodies.length) await post(m.base, m.cookie, m.path, m.bodies[next++]);
          }),
        );
        process.send?.({ t: 'loaded', startedAt, acceptedAt: epoch() });
      }
    } catch (err) {
      process.send?.({ t: 'error', message: (err as Error).message });
    }
  });
  process.send?.({ t: 'ready' });
}
