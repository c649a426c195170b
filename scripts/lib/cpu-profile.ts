// BENCH_CPU_PROF=dir: a CPU profile of one stretch of a bench (the burst, the payments), written as
// dir/<name>-<pid>.cpuprofile for Chrome DevTools or speedscope. A no-op without the variable.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';

/** Starts profiling this process; the returned function stops and writes it, answering the file (or undefined). */
export async function profileStretch(name: string): Promise<() => Promise<string | undefined>> {
  const dir = process.env.BENCH_CPU_PROF;
  if (!dir) return async () => undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${name}-${process.pid}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    return file;
  };
}
