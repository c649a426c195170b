import { expect } from 'chai';
import { ApplyResult, CONTROLLER_MAX_PAYLOAD } from '@mtandao/protocol';
import { fitResult } from '../src/channel/ack-results.ts';
import { lazyChild } from '../src/logger.ts';
import { memoryLogger } from './helpers/agent-fixtures.ts';

describe('results as acks carry them', () => {
  const { logger } = memoryLogger('silent');

  it('passes an everyday result through as it is', () => {
    const result = { changes: ['add /ppp/secret alice', 'add /queue/simple alice'], summary: { created: 2, unchanged: 0 } };
    expect(fitResult(result, logger)).to.deep.equal({ result });
    expect(fitResult({ changes: [] }, logger)).to.deep.equal({ result: { changes: [] } });
  });

  it('keeps the first 200 change lines, each clipped to 300 characters, and counts the rest', () => {
    const fitted = fitResult({ changes: Array.from({ length: 250 }, (_, i) => `line ${i} ${'x'.repeat(400)}`) }, logger);
    expect(fitted.result!.changes).to.have.length(200);
    expect(fitted.result!.changes.every((c) => c.length === 300)).to.equal(true);
    expect(fitted.result!.summary).to.deep.equal({ changesNotListed: 50 });
    expect(ApplyResult.safeParse(fitted.result).success).to.equal(true);
  });

  it('refuses what the ack schema refuses, whichever way it is checked', () => {
    const bad = [
      { changes: ['ok'], summary: { created: 1.5 } },
      { changes: ['ok'], summary: { created: Number.MAX_SAFE_INTEGER + 2 } },
      { changes: ['ok'], surprise: true },
      { changes: ['ok'], summary: [] },
    ];
    for (const result of bad) expect(fitResult(result as unknown as ApplyResult, logger).error?.code, JSON.stringify(result)).to.equal('bad-result');
  });

  it('still measures a result whose lines may not fit in one frame', () => {
    // 200 lines of 300 control characters: 60 000 characters, 360 000 bytes of JSON
    const fitted = fitResult({ changes: Array.from({ length: 200 }, () => '\u0001'.repeat(300)) }, logger);
    expect(JSON.stringify({ changes: Array.from({ length: 200 }, () => '\u0001'.repeat(300)) }).length).to.be.greaterThan(CONTROLLER_MAX_PAYLOAD);
    expect(fitted.error?.code).to.equal('result-too-large');
  });
});

describe('a command log line', () => {
  it('is bound to its command, and costs no child logger when its level is off', () => {
    const { logger, lines } = memoryLogger('info');
    let built = 0;
    const log = lazyChild(logger, () => (built++, { commandId: 'cmd-1', seq: 7 }));
    log.debug('applying');
    expect(built, 'no child for a debug line at info').to.equal(0);
    log.info({ status: 'applied' }, 'command applied');
    log.warn({ status: 'failed' }, 'command failed');
    expect(built, 'one child, made once').to.equal(1);
    const written = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(written).to.have.length(2);
    expect(written[0]).to.include({ commandId: 'cmd-1', seq: 7, status: 'applied', msg: 'command applied' });
    expect(written[1]).to.include({ commandId: 'cmd-1', seq: 7, status: 'failed', msg: 'command failed' });

    const silent = memoryLogger('silent');
    const quiet = lazyChild(silent.logger, () => (built++, {}));
    quiet.error({ err: new Error('x') }, 'nothing written');
    expect(built).to.equal(1);
    expect(silent.lines).to.have.length(0);
  });
});
