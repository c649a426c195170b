/**
 * The emulator's SSH side: a real SSH server (ssh2) with password login, running the console
 * language for `exec` requests and for an interactive `shell`, on the same store as the API.
 * Bytes are Windows-1252 both ways, as on the router's terminal.
 */
import type { Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import ssh2 from 'ssh2';
import type { Connection, ServerChannel } from 'ssh2';
import { decodeWin1252, encodeWin1252, findUnencodable } from '@mtandao/agent/routeros-encoding';
import { ConsoleInterpreter } from './console/interpreter.ts';
import type { SimContext } from './context.ts';

/** Terminal text as bytes; a character the router could never have stored shows as `?`. */
function terminalBytes(text: string): Buffer {
  let t = text;
  for (let i = findUnencodable(t); i >= 0; i = findUnencodable(t)) t = `${t.slice(0, i)}?${t.slice(i + 1)}`;
  return encodeWin1252(t);
}

const lines = (output: readonly string[]): string => output.map((l) => `${l}\r\n`).join('');

/** An SSH server that takes sockets the emulator accepted. */
export class SimSshServer {
  private readonly server: ssh2.Server;

  constructor(
    private readonly ctx: SimContext,
    hostKey: string | Buffer,
    private readonly identity: () => string,
  ) {
    this.server = new ssh2.Server({ hostKeys: [hostKey], ident: 'ROSSSH' }, (client) => this.onClient(client));
  }

  /** Serves a socket the emulator's own listener accepted (so it can reset it at will). */
  accept(socket: Socket): void {
    this.server.injectSocket(socket);
  }

  private onClient(client: Connection): void {
    let user = '';
    client.on('error', () => undefined);
    client.on('authentication', (auth) => {
      if (auth.method === 'password' && this.ctx.checkLogin(auth.username, (p) => p === auth.password)) {
        user = auth.username;
        auth.accept();
      } else auth.reject(['password']);
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('pty', (accept) => accept?.());
        session.on('env', (accept) => accept?.());
        session.on('window-change', (accept) => accept?.());
        session.on('exec', (accept, _reject, info) => {
          const stream = accept();
          void this.exec(stream, decodeWin1252(Buffer.from(info.command, 'utf8')));
        });
        session.on('shell', (accept) => this.shell(accept(), user));
      });
    });
  }

  private async exec(stream: ServerChannel, script: string): Promise<void> {
    const result = await new ConsoleInterpreter(this.ctx).run(script, '');
    const latency = this.ctx.latencyMs();
    if (latency > 0) await delay(latency);
    if (stream.destroyed) return;
    stream.write(terminalBytes(lines(result.output)));
    stream.exit(0);
    stream.end();
  }

  /** An interactive console: prompt, echo, line editing, `/quit` or Ctrl-D to leave. */
  private shell(stream: ServerChannel, user: string): void {
    const interpreter = new ConsoleInterpreter(this.ctx);
    let cwd = '';
    let line = '';
    let escape = false;
    let afterCr = false;
    let running: Promise<void> = Promise.resolve();
    const prompt = () => `[${user}@${this.identity()}] ${cwd}> `;
    const say = (text: string) => {
      if (!stream.destroyed) stream.write(terminalBytes(text));
    };
    const leave = () => {
      say('\r\n');
      stream.exit(0);
      stream.end();
    };
    const enter = (input: string) => {
      running = running.then(async () => {
        const result = await interpreter.run(input, cwd);
        cwd = result.cwd;
        const latency = this.ctx.latencyMs();
        if (latency > 0) await delay(latency);
        say(lines(result.output));
        if (result.quit) leave();
        else say(prompt());
      });
    };
    say(`\r\n  MikroTik RouterOS ${this.ctx.store.version} (c) 1999-2025       https://www.mikrotik.com/\r\n\r\n${prompt()}`);
    stream.on('data', (data: Buffer) => {
      for (const ch of decodeWin1252(data)) {
        const crlf = afterCr && ch === '\n';
        afterCr = ch === '\r';
        if (crlf) continue;
        if (escape) {
          // skip the rest of an ANSI escape sequence (arrow keys and such)
          if (/[A-Za-z~]/.test(ch)) escape = false;
        } else if (ch === '\x1b') escape = true;
        else if (ch === '\r' || ch === '\n') {
          say('\r\n');
          const input = line;
          line = '';
          enter(input);
        } else if (ch === '\x7f' || ch === '\b') {
          if (line.length > 0) {
            line = line.slice(0, -1);
            say('\b \b');
          }
        } else if (ch === '\x03') {
          line = '';
          say(`^C\r\n${prompt()}`);
        } else if (ch === '\x04') {
          if (line === '') leave();
        } else if (ch >= ' ' || ch === '\t') {
          line += ch;
          say(ch);
        }
      }
    });
  }
}
