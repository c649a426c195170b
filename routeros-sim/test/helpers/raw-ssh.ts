/** A bare SSH client for emulator tests: run a command line, get what the console printed. */
import ssh2 from 'ssh2';
import { decodeWin1252 } from '@mtandao/agent/routeros-encoding';

export class RawSsh {
  private constructor(readonly client: ssh2.Client) {}

  static async open(port: number, username: string, password: string): Promise<RawSsh> {
    const client = new ssh2.Client();
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.once('error', reject);
      client.connect({ host: '127.0.0.1', port, username, password, readyTimeout: 3000 });
    });
    client.setNoDelay(true);
    return new RawSsh(client);
  }

  /** Runs one `exec` and returns its output with `\r\n` turned into `\n`. */
  exec(command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, stream) => {
        if (err) return reject(err);
        const chunks: Buffer[] = [];
        stream.on('data', (d: Buffer) => chunks.push(d));
        stream.on('close', () => resolve(decodeWin1252(Buffer.concat(chunks)).replace(/\r\n/g, '\n')));
      });
    });
  }

  /** Opens an interactive shell; `type` sends keys, `output` is everything printed so far. */
  shell(): Promise<{ type: (keys: string) => void; output: () => string; closed: () => boolean }> {
    return new Promise((resolve, reject) => {
      this.client.shell({ term: 'dumb' }, (err, stream) => {
        if (err) return reject(err);
        let out = '';
        let closed = false;
        stream.on('data', (d: Buffer) => (out += decodeWin1252(d)));
        stream.on('close', () => (closed = true));
        resolve({ type: (keys) => stream.write(keys), output: () => out.replace(/\r\n/g, '\n'), closed: () => closed });
      });
    });
  }

  close(): void {
    this.client.end();
  }
}
