import { expect } from 'chai';
import { describeNetworkError, formatFindings, formatSpan, parseRouterClock } from '../src/doctor.ts';

describe('doctor words', () => {
  it('reads both forms of the RouterOS clock, with its offset', () => {
    expect(parseRouterClock({ date: '2026-12-01', time: '17:34:17', 'gmt-offset': '+03:00' })).to.equal(Date.parse('2026-12-01T14:34:17Z'));
    expect(parseRouterClock({ date: 'dec/01/2026', time: '17:34:17', 'gmt-offset': '+03:00' })).to.equal(Date.parse('2026-12-01T14:34:17Z'));
    expect(parseRouterClock({ date: 'jan/02/2024', time: '00:00:00', 'gmt-offset': '-05:30' })).to.equal(Date.parse('2024-01-02T05:30:00Z'));
    expect(parseRouterClock({ date: 'yesterday', time: '17:34:17' })).to.equal(undefined);
  });

  it('says spans and network failures as a person would', () => {
    expect(formatSpan(450)).to.equal('450 ms');
    expect(formatSpan(-200_000)).to.equal('3 min 20 s');
    expect(formatSpan(7_200_000)).to.equal('2 h');
    expect(
      describeNetworkError(Object.assign(new Error('fetch failed'), { cause: { code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND ctl' } }), 'ctl:443'),
    ).to.contain('does not resolve');
    expect(
      describeNetworkError(
        Object.assign(new Error('fetch failed'), { cause: { code: 'SELF_SIGNED_CERT_IN_CHAIN', message: 'self-signed certificate' } }),
        'ctl:443',
      ),
    ).to.match(/^TLS: the certificate of ctl:443 is not trusted/);
  });

  it('ends with a verdict that counts problems and warnings', () => {
    const text = formatFindings([
      { status: 'ok', subject: 'enrolment', message: 'fine' },
      { status: 'warn', subject: 'controller x', message: 'not encrypted' },
      { status: 'fail', subject: 'router a', message: 'refused' },
    ]);
    expect(text).to.match(/FAIL {2}router a {6}refused/);
    expect(text.trim().split('\n').at(-1)).to.equal('1 problem found, 1 warning.');
  });
});
