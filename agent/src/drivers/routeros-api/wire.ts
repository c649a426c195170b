/**
 * The RouterOS API wire format: a sentence is a list of words ended by a zero-length word; a word
 * is a length prefix of 1–5 bytes followed by that many bytes (Windows-1252, see ../encoding.ts).
 *
 *   0x00–0x7F            1 byte   len
 *   0x80–0x3FFF          2 bytes  len | 0x8000
 *   0x4000–0x1FFFFF      3 bytes  len | 0xC00000
 *   0x200000–0xFFFFFFF   4 bytes  len | 0xE0000000
 *   0x10000000 and up    5 bytes  0xF0, then len as 4 bytes
 * A first byte of 0xF8 or more is a reserved control byte.
 */
import { decodeWin1252, encodeWin1252 } from '../encoding.ts';

/** The wire broke its own rules (reserved control byte, oversized word). */
export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireError';
  }
}

/** Writes the length prefix of a word of `length` bytes at `at`; returns its size. */
function writeLength(out: Buffer, at: number, length: number): number {
  if (length < 0x80) {
    out[at] = length;
    return 1;
  }
  if (length < 0x4000) {
    out.writeUInt16BE(length | 0x8000, at);
    return 2;
  }
  if (length < 0x200000) {
    out[at] = (length >>> 16) | 0xc0;
    out.writeUInt16BE(length & 0xffff, at + 1);
    return 3;
  }
  if (length < 0x10000000) {
    out.writeUInt32BE((length | 0xe0000000) >>> 0, at);
    return 4;
  }
  out[at] = 0xf0;
  out.writeUInt32BE(length, at + 1);
  return 5;
}

const prefixSize = (n: number): number => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5);

/** The length prefix of a word of `length` bytes. */
export function encodeLength(length: number): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > 0xffffffff) throw new RangeError(`bad word length ${length}`);
  const out = Buffer.alloc(prefixSize(length));
  writeLength(out, 0, length);
  return out;
}

/** How many bytes a length prefix takes, judged from its first byte. */
export function lengthPrefixSize(first: number): number {
  if (first < 0x80) return 1;
  if (first < 0xc0) return 2;
  if (first < 0xe0) return 3;
  if (first < 0xf0) return 4;
  if (first < 0xf8) return 5;
  throw new WireError(`reserved control byte 0x${first.toString(16)}`);
}

/** Decodes a complete length prefix (`bytes` holds exactly {@link lengthPrefixSize} bytes). */
export function decodeLength(bytes: Buffer): number {
  const b0 = bytes[0] ?? 0;
  switch (lengthPrefixSize(b0)) {
    case 1:
      return b0;
    case 2:
      return ((b0 & 0x3f) << 8) | (bytes[1] ?? 0);
    case 3:
      return ((b0 & 0x1f) << 16) | ((bytes[1] ?? 0) << 8) | (bytes[2] ?? 0);
    case 4:
      return (b0 & 0x0f) * 0x1000000 + (((bytes[1] ?? 0) << 16) | ((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0));
    default:
      return bytes.readUInt32BE(1);
  }
}

/** One word on the wire. Throws {@link EncodingError} for text without a Windows-1252 form. */
export function encodeWord(word: string | Buffer): Buffer {
  return encodeSentences([[word]]).subarray(0, -1);
}

/** A whole sentence, zero-length word included. */
export function encodeSentence(words: readonly (string | Buffer)[]): Buffer {
  return encodeSentences([words]);
}

const ASCII = /^[\x00-\x7f]*$/;

/**
 * Several sentences in one buffer, for one socket write. Sizes are measured first and everything
 * is written into a single allocation: a print of 10 000 rows is one buffer, not 100 000.
 */
export function encodeSentences(sentences: readonly (readonly (string | Buffer)[])[]): Buffer {
  const bodies: (string | Buffer)[] = [];
  let total = 0;
  for (const words of sentences) {
    for (const w of words) {
      const body = typeof w === 'string' && !ASCII.test(w) ? encodeWin1252(w) : w;
      bodies.push(body);
      const n = body.length;
      total += n + prefixSize(n);
    }
    bodies.push('');
    total += 1;
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const body of bodies) {
    at += writeLength(out, at, body.length);
    at += typeof body === 'string' ? out.write(body, at, 'latin1') : body.copy(out, at);
  }
  return out;
}

/** Limits a reader enforces, so a peer cannot make it buffer without end. */
export interface ReaderLimits {
  maxWordBytes?: number;
  maxSentenceBytes?: number;
}

/**
 * Reassembles sentences from TCP chunks split anywhere, even inside a length prefix. Bytes are
 * concatenated once per word, so a large word arriving in many chunks costs linear time.
 */
export class SentenceReader {
  private chunks: Buffer[] = [];
  /** Bytes of `chunks[0]` already consumed. */
  private head = 0;
  private available = 0;
  private words: string[] = [];
  private sentenceBytes = 0;

  constructor(private limits: ReaderLimits = {}) {}

  /** Changes the limits (the emulator relaxes them after login). */
  setLimits(limits: ReaderLimits): void {
    this.limits = limits;
  }

  /** Feeds bytes; returns every sentence they complete. Throws {@link WireError} on a broken stream. */
  push(chunk: Buffer): string[][] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.available += chunk.length;
    }
    const done: string[][] = [];
    while (this.available > 0) {
      const first = this.chunks[0] as Buffer;
      const size = lengthPrefixSize(first[this.head] ?? 0);
      if (this.available < size) break;
      const length = decodeLength(this.bytes(size, false));
      const max = this.limits.maxWordBytes;
      if (max !== undefined && length > max) throw new WireError(`word of ${length} bytes is over the limit of ${max}`);
      if (this.available < size + length) break;
      this.skip(size);
      if (length === 0) {
        if (this.words.length > 0) done.push(this.words);
        this.words = [];
        this.sentenceBytes = 0;
        continue;
      }
      this.sentenceBytes += length;
      const maxSentence = this.limits.maxSentenceBytes;
      if (maxSentence !== undefined && this.sentenceBytes > maxSentence) throw new WireError(`sentence is over the limit of ${maxSentence} bytes`);
      const current = this.chunks[0] as Buffer;
      if (current.length - this.head >= length) {
        // The usual case: the word lies within one chunk, decode it in place.
        this.words.push(decodeWin1252(current, this.head, this.head + length));
        this.skip(length);
      } else this.words.push(decodeWin1252(this.bytes(length, true)));
    }
    return done;
  }

  /** The next `n` bytes (consumed when `take`), gathered across chunks when they straddle. */
  private bytes(n: number, take: boolean): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      if (take) this.skip(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    let i = 0;
    let offset = this.head;
    while (filled < n) {
      const c = this.chunks[i] as Buffer;
      const part = Math.min(n - filled, c.length - offset);
      c.copy(out, filled, offset, offset + part);
      filled += part;
      i++;
      offset = 0;
    }
    if (take) this.skip(n);
    return out;
  }

  private skip(n: number): void {
    this.available -= n;
    let left = n;
    while (left > 0) {
      const first = this.chunks[0] as Buffer;
      const rest = first.length - this.head;
      if (rest > left) {
        this.head += left;
        return;
      }
      left -= rest;
      this.chunks.shift();
      this.head = 0;
    }
  }
}

/** Splits an attribute word `=name=value` (value may hold `=`); undefined for other words. */
export function splitAttribute(word: string): [string, string] | undefined {
  if (!word.startsWith('=')) return undefined;
  const eq = word.indexOf('=', 1);
  if (eq < 0) return [word.slice(1), ''];
  return [word.slice(1, eq), word.slice(eq + 1)];
}
