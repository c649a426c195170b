// A bench's helper process (the controller, the site, the load generator): forked with the sources'
// conditions, it says {t:'ready'} once started and answers each {t} message with one message back
// ({t:'error', message} for a failure; the site's {t:'changes'} reports are not answers).
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

type Message = Record<string, unknown>;
const scripts = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

export interface BenchChild {
  proc: ChildProcess;
  /** What the child said when it was ready. */
  ready: Message;
  ask<T>(m: Message): Promise<T>;
}

/** Forks `scripts/<module>`; BENCH_SITE_PROF=dir gives the site process a --cpu-prof. */
export function benchChild(module: string, env: Record<string, string>): Promise<BenchChild> {
  const proc = fork(path.join(scripts, module), [], {
    execArgv: [
      '--conditions=mtandao-source',
      '--import',
      'tsx',
      ...(process.env.BENCH_SITE_PROF && module.includes('site') ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SITE_PROF}`] : []),
    ],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ask = <T>(m: Message) =>
    new Promise<T>((resolve, reject) => {
      const on = (r: { t: string; message?: string }) => {
        if (r.t === 'changes') return;
        proc.off('message', on);
        if (r.t === 'error') reject(new Error(r.message));
        else resolve(r as T);
      };
      proc.on('message', on);
      proc.send(m);
    });
  return new Promise((resolve, reject) => {
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`${module} exited ${code}`)));
    const on = (m: { t: string }) => {
      if (m.t !== 'ready') return;
      proc.off('message', on);
      proc.removeAllListeners('exit');
      resolve({ proc, ready: m, ask });
    };
    proc.on('message', on);
  });
}
