// A password in front of the embedded PostgreSQL. PGlite trusts whoever reaches it; this listener
// speaks the start of the PostgreSQL protocol itself: it asks for an MD5 password, checks it, and
// only then hands the socket, with its original startup message, to what serves PGlite (in the
// same process: the bytes of an authenticated client make no further hop).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import { fatalMessage } from './embedded-wire.ts';

const SSL_REQUEST = 80877103;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;
const MAX_STARTUP_BYTES = 10_000;

const md5 = (s: string | Buffer) => createHash('md5').update(s).digest('hex');

/** Parameters of a startup message (`user`, `database`, …). */
function startupParams(msg: Buffer): Map<string, string> {
  const parts = msg.subarray(8).toString('utf8').split('\0');
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < parts.length; i += 2) if (parts[i]) out.set(parts[i]!, parts[i + 1]!);
  return out;
}

/**
 * A server that hands to `serve` only clients that know `password` (any user name: the password
 * is the secret), with their startup message and what they sent after the password.
 */
export function passwordFront(options: { password: string; serve: (client: net.Socket, startup: Buffer, rest: Buffer) => void }): net.Server {
  return net.createServer((client) => {
    client.on('error', () => client.destroy());
    client.setTimeout(10_000, () => client.destroy());
    let buf = Buffer.alloc(0);
    let startup: Buffer | undefined;
    let user = '';
    const salt = randomBytes(4);

    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length > MAX_STARTUP_BYTES) return client.destroy();
      while (buf.length > 0) {
        if (!startup) {
          if (buf.length < 8) return;
          const len = buf.readInt32BE(0);
          const code = buf.readInt32BE(4);
          if (len < 8 || len > MAX_STARTUP_BYTES) return client.destroy();
          if (buf.length < len) return;
          const msg = buf.subarray(0, len);
          buf = buf.subarray(len);
          if (code === SSL_REQUEST && len === 8) {
            client.write('N'); // no TLS on a loopback port
            continue;
          }
          if (code === CANCEL_REQUEST || code !== PROTOCOL_3) return client.destroy();
          startup = Buffer.from(msg);
          user = startupParams(startup).get('user') ?? '';
          const auth = Buffer.alloc(13);
          auth.write('R', 0);
          auth.writeInt32BE(12, 1);
          auth.writeInt32BE(5, 5); // AuthenticationMD5Password
          salt.copy(auth, 9);
          client.write(auth);
          continue;
        }
        if (buf.length < 5) return;
        const len = buf.readInt32BE(1);
        if (buf[0] !== 0x70 /* 'p' */ || len < 5 || len > MAX_STARTUP_BYTES) return fail();
        if (buf.length < len + 1) return;
        const answer = buf
          .subarray(5, len + 1)
          .toString('utf8')
          .replace(/\0$/, '');
        const rest = buf.subarray(len + 1);
        const expected = `md5${md5(Buffer.concat([Buffer.from(md5(options.password + user)), salt]))}`;
        const ok = answer.length === expected.length && timingSafeEqual(Buffer.from(answer), Buffer.from(expected));
        if (!ok) return fail();
        client.off('data', onData);
        client.removeAllListeners('error');
        client.setTimeout(0);
        return options.serve(client, startup, Buffer.from(rest));
      }
    };
    const fail = () => {
      client.end(fatalMessage('28P01', `password authentication failed for user "${user}"`));
    };
    client.on('data', onData);
  });
}
