/**
 * A bare API client for emulator tests: raw sentences out, raw reply sentences in, nothing
 * interpreted, so the tests see exactly what the emulator puts on the wire.
 */
import { connect, type Socket } from 'node:net';
import { encodeSentence, SentenceReader } from '@mtandao/agent/routeros-wire';

export class RawApi {
  readonly received: string[][] = [];
  private readonly reader = new SentenceReader();
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.received.push(...this.reader.push(d));
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('error', () => undefined);
  }

  static async open(port: number): Promise<RawApi> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    return new RawApi(socket);
  }

  /** Opens and logs in. */
  static async login(port: number, user: string, password: string): Promise<RawApi> {
    const api = await RawApi.open(port);
    const reply = await api.call(['/login', `=name=${user}`, `=password=${password}`]);
    if (reply.at(-1)?.[0] !== '!done' || reply.some((s) => s[0] === '!trap')) throw new Error(`login failed: ${JSON.stringify(reply)}`);
    return api;
  }

  send(words: readonly string[]): void {
    this.socket.write(encodeSentence(words));
  }

  /** Waits until `n` sentences in all have arrived (or the socket closed). */
  async waitFor(predicate: () => boolean, ms = 3000): Promise<void> {
    const until = Date.now() + ms;
    while (!predicate()) {
      if (this.closed) return;
      if (Date.now() > until) throw new Error(`timed out; received ${JSON.stringify(this.received.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The sentences tagged `tag`. */
  tagged(tag: string): string[][] {
    return this.received.filter((s) => s.includes(`.tag=${tag}`));
  }

  /** Sends a command with a fresh tag and resolves with its reply sentences, `!done` included. */
  async call(words: readonly string[], tag = `t${Math.random().toString(36).slice(2)}`): Promise<string[][]> {
    this.send([...words, `.tag=${tag}`]);
    await this.waitFor(() => this.tagged(tag).some((s) => s[0] === '!done'));
    return this.tagged(tag).map((s) => s.filter((w) => w !== `.tag=${tag}`));
  }

  close(): void {
    this.socket.destroy();
  }
}
