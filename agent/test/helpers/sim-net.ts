/**
 * Network tricks for driver tests: a proxy that delivers a router's replies one byte per TCP
 * segment, and a scripted fake router for replies the emulator never sends (`!fatal` mid-session,
 * unknown reply words, commands it never answers).
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { encodeSentence, SentenceReader } from '../../src/drivers/routeros-api/wire.ts';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as AddressInfo).port;
}

/** A proxy to `port` that writes everything coming back one byte at a time. */
export async function startSplittingProxy(port: number): Promise<{ port: number; close: () => void }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.setNoDelay(true);
    }
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d: Buffer) => {
      upstream.pause();
      void (async () => {
        for (const b of d) {
          client.write(Buffer.from([b]));
          await new Promise((r) => setImmediate(r));
        }
        upstream.resume();
      })();
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  const p = await listen(server);
  return {
    port: p,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** How a fake router answers one command: the sentences to send back (tag added), or nothing. */
export type FakeHandler = (words: string[], session: { send: (sentences: string[][]) => void; socket: Socket }) => string[][] | undefined;

/** A router that logs anyone in and answers everything else through `handler`. */
export async function startFakeRouter(handler: FakeHandler): Promise<{ port: number; connections: () => number; close: () => void }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    const reader = new SentenceReader();
    const send = (sentences: string[][]) => {
      if (!socket.destroyed) socket.write(Buffer.concat(sentences.map((s) => encodeSentence(s))));
    };
    socket.on('data', (d: Buffer) => {
      for (const words of reader.push(d)) {
        const tag = words.find((w) => w.startsWith('.tag='));
        const tagged = (sentences: string[][]) => sentences.map((s) => (tag ? [s[0] as string, tag, ...s.slice(1)] : s));
        if (words[0] === '/login') {
          send(tagged([['!done']]));
          continue;
        }
        const reply = handler(words, { send: (s) => send(tagged(s)), socket });
        if (reply) send(tagged(reply));
      }
    });
  });
  const port = await listen(server);
  return {
    port,
    connections: () => connections,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
