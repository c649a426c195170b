import { expect } from 'chai';
import { Transmitter } from 'node-routeros';
import { decodeWin1252, encodeWin1252 } from '../src/drivers/encoding.ts';
import { decodeLength, encodeLength, encodeSentence, lengthPrefixSize, SentenceReader, WireError } from '../src/drivers/routeros-api/wire.ts';
import { PASSWORD, routerPerSuite, USER, type Router } from './helpers/sim-fixtures.ts';
import { RawApi } from '@mtandao/routeros-sim/raw-api';

// Lengths either side of each prefix size, with the bytes the RouterOS API manual prescribes.
const BOUNDARIES: [number, number[]][] = [
  [0, [0x00]],
  [0x7f, [0x7f]],
  [0x80, [0x80, 0x80]],
  [0x3fff, [0xbf, 0xff]],
  [0x4000, [0xc0, 0x40, 0x00]],
  [0x1fffff, [0xdf, 0xff, 0xff]],
  [0x200000, [0xe0, 0x20, 0x00, 0x00]],
  [0xfffffff, [0xef, 0xff, 0xff, 0xff]],
  [0x10000000, [0xf0, 0x10, 0x00, 0x00, 0x00]],
];

describe('RouterOS API wire format', () => {
  it('encodes length prefixes at the 0x7f/0x80, 0x3fff/0x4000, 0x1fffff/0x200000 and 0xfffffff/0x10000000 boundaries', () => {
    for (const [length, bytes] of BOUNDARIES) expect([...encodeLength(length)], `length 0x${length.toString(16)}`).to.deep.equal(bytes);
  });

  it('decodes every boundary prefix back to its length', () => {
    for (const [length, bytes] of BOUNDARIES) {
      expect(lengthPrefixSize(bytes[0] as number)).to.equal(bytes.length);
      expect(decodeLength(Buffer.from(bytes))).to.equal(length);
    }
  });

  it('agrees with node-routeros on every boundary it can encode', () => {
    const transmitter = new Transmitter(null as never) as unknown as { encodeString(s: string): Buffer };
    for (const [length] of BOUNDARIES.filter(([l]) => l <= 0x200000)) {
      const word = 'x'.repeat(length);
      expect(encodeSentence([word]).subarray(0, -1).equals(transmitter.encodeString(word)), `length 0x${length.toString(16)}`).to.equal(true);
    }
  });

  it('refuses a reserved control byte', () => {
    expect(() => new SentenceReader().push(Buffer.from([0xf8, 0, 0, 0, 0]))).to.throw(WireError);
  });

  it('reassembles a sentence split at every byte position', () => {
    const words = ['/ppp/secret/add', `=comment=${'c'.repeat(0x80)}`, `=password=${'p'.repeat(0x4000)}`, '=name=x', '.tag=7'];
    const bytes = encodeSentence(words);
    for (let cut = 0; cut <= bytes.length; cut += cut < 300 ? 1 : 97) {
      const reader = new SentenceReader();
      const got = [...reader.push(bytes.subarray(0, cut)), ...reader.push(bytes.subarray(cut))];
      expect(got, `cut at ${cut}`).to.deep.equal([words]);
    }
  });

  it('reassembles sentences fed one byte at a time', () => {
    const sentences = [
      ['!re', '=name=a', `=comment=${'z'.repeat(200)}`],
      ['!done', '.tag=1'],
    ];
    const bytes = Buffer.concat(sentences.map(encodeSentence));
    const reader = new SentenceReader();
    const got: string[][] = [];
    for (const b of bytes) got.push(...reader.push(Buffer.from([b])));
    expect(got).to.deep.equal(sentences);
  });

  it('ignores empty sentences', () => {
    expect(new SentenceReader().push(Buffer.from([0, 0, ...encodeSentence(['/quit'])]))).to.deep.equal([['/quit']]);
  });

  it('round-trips every byte through Windows-1252, and refuses text without a Windows-1252 form', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(encodeWin1252(decodeWin1252(all)).equals(all)).to.equal(true);
    expect([...encodeWin1252('café €')]).to.deep.equal([0x63, 0x61, 0x66, 0xe9, 0x20, 0x80]);
    expect(() => encodeWin1252('пароль')).to.throw(/U\+043F/);
  });
});

describe('RouterOS emulator API framing over TCP', () => {
  const suite = routerPerSuite({ sshPort: null });
  let router: Router;
  beforeEach(() => {
    router = suite();
  });

  it('answers a login and a command written one byte per TCP segment', async () => {
    const api = await RawApi.open(router.ports.apiPort);
    const bytes = Buffer.concat([
      encodeSentence(['/login', `=name=${USER}`, `=password=${PASSWORD}`, '.tag=l']),
      encodeSentence(['/system/identity/print', '.tag=p']),
    ]);
    for (const b of bytes) {
      api.socket.write(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
    await api.waitFor(() => api.tagged('p').some((s) => s[0] === '!done'));
    expect(api.tagged('l')).to.deep.equal([['!done', '.tag=l']]);
    expect(api.tagged('p')[0]).to.deep.equal(['!re', '.tag=p', '=name=test-router']);
    api.close();
  });

  it('carries words of 1-, 2-, 3- and 4-byte length prefixes through the socket and back', async () => {
    const api = await RawApi.login(router.ports.apiPort, USER, PASSWORD);
    const sizes = [0x7f, 0x3fff, 0x1fffff, 0x200000];
    for (const [i, size] of sizes.entries()) {
      const comment = `${i}`.padEnd(size, 'w');
      const [done] = await api.call(['/ppp/secret/add', `=name=big${i}`, `=comment=${comment}`]);
      const id = done?.find((w) => w.startsWith('=ret='))?.slice(5) ?? '';
      const rows = await api.call(['/ppp/secret/print', `?.id=${id}`, '=.proplist=comment']);
      expect(rows[0]?.[1]?.length, `comment of ${size} bytes`).to.equal(size + '=comment='.length);
      expect(rows[0]?.[1]).to.equal(`=comment=${comment}`);
    }
    api.close();
  });

  it('answers a reserved control byte with !fatal and closes', async () => {
    const api = await RawApi.open(router.ports.apiPort);
    api.socket.write(Buffer.from([0xf9]));
    await api.waitFor(() => api.closed);
    expect(api.received[0]?.[0]).to.equal('!fatal');
  });
});
