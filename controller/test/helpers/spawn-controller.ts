import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_SECRET_KEY, TEST_SIGNING_KEY } from './controller.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * Starts one of the crashing controllers of `test/helpers/` (crash-controller.ts,
 * import-crash-controller.ts) in a child process on `databaseUrl`, with the run's keys; answers its
 * URL once it listens, and how it exits (the signal that ended it).
 */
export async function spawnCrashingController(
  helper: string,
  databaseUrl: string,
): Promise<{ child: ChildProcess; url: string; exited: Promise<NodeJS.Signals | null> }> {
  const child = spawn(process.execPath, ['--conditions=mtandao-source', '--import', 'tsx', path.join(here, helper)], {
    env: { ...process.env, CRASH_DATABASE_URL: databaseUrl, CRASH_SECRET_KEY: TEST_SECRET_KEY, CRASH_SIGNING_KEY: TEST_SIGNING_KEY },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.once('message', (m: { url: string }) => resolve(m.url));
      child.once('exit', (code) => reject(new Error(`the controller exited (${code}) before it started`)));
    });
    return { child, url, exited };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}
