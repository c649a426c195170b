import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { freshIv, SecretBox, sha256 } from '../src/lib/secrets.ts';

describe('secrets', () => {
  it('sha256 is the base64url SHA-256 that stored token hashes were made with', () => {
    for (const value of ['', 'mt_abc', 'Wanjikũ 🌽', randomBytes(40).toString('base64url')])
      expect(sha256(value)).to.equal(createHash('sha256').update(value).digest('base64url'));
  });

  it('hands out every IV once, across refills of its pool, as buffers of their own', () => {
    const seen = new Set<string>();
    const kept: [Buffer, string][] = [];
    for (let i = 0; i < 5000; i++) {
      const iv = freshIv();
      expect(iv.length).to.equal(12);
      const hex = iv.toString('hex');
      expect(seen.has(hex), `IV ${hex} came twice`).to.equal(false);
      seen.add(hex);
      if (i % 500 === 0) kept.push([iv, hex]);
    }
    // refills of the pool did not change an IV already handed out
    for (const [iv, hex] of kept) expect(iv.toString('hex')).to.equal(hex);
  });

  it('encrypts with a new IV each time and decrypts only with the same associated data', () => {
    const box = new SecretBox(randomBytes(32));
    const a = box.encrypt('pa55word', 'customer:1');
    const b = box.encrypt('pa55word', 'customer:1');
    expect(a).to.not.equal(b);
    expect(Buffer.from(a.slice(3), 'base64').subarray(0, 12)).to.not.deep.equal(Buffer.from(b.slice(3), 'base64').subarray(0, 12));
    expect(box.decrypt(a, 'customer:1')).to.equal('pa55word');
    expect(() => box.decrypt(a, 'customer:2')).to.throw();
  });
});
