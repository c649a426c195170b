import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { forwardLines, loud } from '../../scripts/lib/output.mjs';

/** Issue 12 item 10: `npm start` keeps readiness noise in the log files, warnings and errors on the terminal. */
describe('npm start output', () => {
  it('a quiet program shows only warnings, errors and plain stderr text; everything goes to the log', async () => {
    const stream = new PassThrough();
    const logged: string[] = [];
    const printed: string[] = [];
    forwardLines(stream, { log: (l) => logged.push(l), print: (t) => printed.push(t), quiet: true, onBootstrap: () => undefined });
    const lines = [
      JSON.stringify({ level: 30, msg: 'controller listening', url: 'http://127.0.0.1:8080' }),
      JSON.stringify({ level: 20, msg: 'applied database migrations' }),
      JSON.stringify({ level: 40, msg: 'generated a new command signing key' }),
      JSON.stringify({ level: 50, msg: 'database unreachable' }),
      'RouterOS 7.18.2 emulator listening',
    ];
    stream.end(`${lines.join('\n')}\n`);
    await new Promise((r) => setImmediate(r));
    expect(logged).to.deep.equal(lines);
    expect(printed).to.deep.equal(['warn  generated a new command signing key', 'error database unreachable']);
    expect(loud('RouterOS 7.18.2 emulator listening', true)).to.equal(true);
    expect(loud('RouterOS 7.18.2 emulator listening', false)).to.equal(false);
  });
});
