import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Mode of the state directory: only the agent's user may list or enter it. */
export const DIR_MODE = 0o700;
/** Mode of every file in the state directory. */
export const FILE_MODE = 0o600;

/** Creates the state directory (and parents) and tightens it to 0700 if it already existed. */
export async function ensureStateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  const info = await stat(dir);
  if ((info.mode & 0o777) !== DIR_MODE) await chmod(dir, DIR_MODE);
}

/** Flushes a directory entry so a rename inside it survives a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `path` with `data` so that a reader, or the agent after a crash, sees either the old
 * file or the new one, never half of it: temp file (0600) in the same directory, fsync, rename,
 * fsync of the directory.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', FILE_MODE);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  await rename(tmp, path);
  await fsyncDir(dirname(path));
}

/** Whether a file's mode lets anyone but its owner read it. */
export async function isWorldOrGroupReadable(path: string): Promise<boolean> {
  return ((await stat(path)).mode & 0o077) !== 0;
}

/** Whether a process with this pid exists (EPERM: it does, but belongs to someone else). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Another live agent holds the state directory. */
export class StateDirBusyError extends Error {
  constructor(dir: string, pid: number, cause: unknown) {
    super(`another agent (pid ${pid}) is running on ${dir}`, { cause });
    this.name = 'StateDirBusyError';
  }
}

/**
 * Takes `<dir>/agent.lock` for this process, so two agents never share one journal. A lock left
 * by a process that no longer exists (killed) is taken over. Returns the release function.
 */
export async function lockStateDir(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, 'agent.lock');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(path, 'wx', FILE_MODE);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => unlink(path).catch(() => undefined);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(pid) && processAlive(pid)) throw new StateDirBusyError(dir, pid, err);
      await unlink(path).catch(() => undefined);
    }
  }
  throw new Error(`could not lock ${dir}`);
}
