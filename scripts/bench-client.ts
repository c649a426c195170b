// An HTTP client in its own process, so the controller's event loop is not also driving the load.
// Modes: BENCH_CLIENT (a list of GETs, timings printed as one JSON line), or an IPC worker taking
// {t:'post'} (one POST, answered with its send time) and {t:'load'} (POSTs with N at a time).
import http from 'node:http';
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

// node:http with kept-alive connections, as a load generator would: fetch (undici) costs the client
// several times the CPU of the request it sends, and on a 2-core machine the clients' CPU is the
// controller's loss
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function post(base: string, cookie: string, path: string, body: unknown): Promise<number> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}${path}`,
      { method: 'POST', agent, headers: { cookie, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        res.resume();
        res.once('end', () => (res.statusCode! >= 300 ? reject(new Error(`POST ${path}: ${res.statusCode}`)) : resolve(res.statusCode!)));
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end(payload);
  });
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
