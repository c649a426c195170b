import { expect } from 'chai';
import { normaliseKenyanMobile, viaLibrary } from '../src/lib/phone.ts';

/** What libphonenumber alone answers (the function before its fast path). */
const reference = (input: string) => viaLibrary(input.replace(/[\s().-]/g, ''));

/** A small deterministic generator, so a failure names an input that can be run again. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('Kenyan mobile numbers', () => {
  it('gives the answers staff rely on', () => {
    expect(normaliseKenyanMobile('0712345678')).to.equal('254712345678');
    expect(normaliseKenyanMobile('+254 712 345 678')).to.equal('254712345678');
    expect(normaliseKenyanMobile('254712345678')).to.equal('254712345678');
    expect(normaliseKenyanMobile('712345678')).to.equal('254712345678');
    expect(normaliseKenyanMobile('(0110) 123-456')).to.equal('254110123456');
    expect(normaliseKenyanMobile('0612345678')).to.equal(undefined); // a landline
    expect(normaliseKenyanMobile('0150123456')).to.equal(undefined); // no such mobile range
    expect(normaliseKenyanMobile('+255712345678')).to.equal(undefined); // Tanzania
    expect(normaliseKenyanMobile('07123456789')).to.equal(undefined);
    expect(normaliseKenyanMobile('')).to.equal(undefined);
  });

  it('answers every three-digit prefix in every written form exactly as libphonenumber does', () => {
    const forms = [
      (n: string) => `0${n}`,
      (n: string) => n,
      (n: string) => `254${n}`,
      (n: string) => `+254${n}`,
      (n: string) => `+254 ${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`,
      (n: string) => `(0${n.slice(0, 3)}) ${n.slice(3, 6)}-${n.slice(6)}`,
      (n: string) => `0${n.slice(0, 3)}.${n.slice(3)}`,
      (n: string) => `+0${n}`,
      (n: string) => `2540${n}`,
      (n: string) => `+2540${n}`,
      (n: string) => `00254${n}`,
      (n: string) => `0${n}0`,
      (n: string) => `0${n.slice(1)}`,
    ];
    let checked = 0;
    let mobiles = 0;
    for (let prefix = 0; prefix < 1000; prefix++) {
      for (const rest of ['000000', '123456', '999999']) {
        const national = `${String(prefix).padStart(3, '0')}${rest}`;
        for (const form of forms) {
          const input = form(national);
          const answer = normaliseKenyanMobile(input);
          expect(answer, input).to.equal(reference(input));
          checked++;
          if (answer) mobiles++;
        }
      }
    }
    expect(checked).to.equal(1000 * 3 * forms.length);
    expect(mobiles).to.be.greaterThan(1000); // the table is not all refusals
  });

  it('answers random digit strings, signs and stray characters exactly as libphonenumber does', () => {
    const next = random(13);
    const heads = ['', '0', '+', '254', '+254', '2540', '07', '01', '+2547', '2541', '00', '+1', '255'];
    const noise = [' ', '-', '.', '(', ')', 'x', '/', '\t', '٠', '０', '+'];
    for (let i = 0; i < 20_000; i++) {
      let digits = heads[Math.floor(next() * heads.length)]!;
      const length = 5 + Math.floor(next() * 10);
      for (let k = 0; k < length; k++) digits += String(Math.floor(next() * 10));
      let input = digits;
      if (next() < 0.3) {
        const at = Math.floor(next() * (input.length + 1));
        input = input.slice(0, at) + noise[Math.floor(next() * noise.length)]! + input.slice(at);
      }
      expect(normaliseKenyanMobile(input), JSON.stringify(input)).to.equal(reference(input));
    }
  });
});
