/**
 * SSH host keys pinned on first use (the `known_hosts` of the agent): a router without a
 * configured `sshHostKey` is trusted with the key it shows the first time, and any other key
 * after that is refused. Kept in the state directory as JSON, one entry per `host:port`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './files.ts';

/** The file under the state directory. */
export const HOST_KEYS_FILE = 'ssh-host-keys.json';

interface Pin {
  fingerprint: string;
  router: string;
  pinnedAt: string;
}

/** What the SSH driver needs of a pin store. */
export interface HostKeyPins {
  /** The pinned fingerprint of `host:port`, if any. */
  get(address: string): string | undefined;
  /** Pins a fingerprint (first use); resolves once it is on disk. */
  pin(address: string, fingerprint: string, router: string): Promise<void>;
  /** Where the pins live, for the error message that tells how to re-pin. */
  readonly where: string;
}

/** Pins stored in a JSON file in the agent's state directory. */
export class HostKeyStore implements HostKeyPins {
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly where: string,
    private readonly pins: Map<string, Pin>,
  ) {}

  /** Loads the pins of a state directory (none yet is fine). */
  static async open(stateDir: string): Promise<HostKeyStore> {
    const path = join(stateDir, HOST_KEYS_FILE);
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const pins = new Map<string, Pin>();
    if (text !== undefined) {
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch (err) {
        throw new Error(`${path} is not valid JSON (${(err as Error).message}): fix or remove it`, { cause: err });
      }
      for (const [address, pin] of Object.entries((raw as Record<string, Pin> | null) ?? {})) {
        if (typeof pin?.fingerprint === 'string') pins.set(address, pin);
      }
    }
    return new HostKeyStore(path, pins);
  }

  get(address: string): string | undefined {
    return this.pins.get(address)?.fingerprint;
  }

  pin(address: string, fingerprint: string, router: string): Promise<void> {
    if (this.pins.get(address)?.fingerprint === fingerprint) return this.writing;
    this.pins.set(address, { fingerprint, router, pinnedAt: new Date().toISOString() });
    // one write at a time, each holding every pin made so far
    this.writing = this.writing.catch(() => undefined).then(() => writeFileAtomic(this.where, `${JSON.stringify(Object.fromEntries(this.pins), null, 2)}\n`));
    return this.writing;
  }
}
