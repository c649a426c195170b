import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// the module scripts/start.mjs splits each child's output with
import { forwardLines } from '../../scripts/lib/output.mjs';
import { freshDatabase } from './helpers/database.ts';
import { TEST_SECRET_KEY, TEST_SIGNING_KEY } from './helpers/controller.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('the generated bootstrap admin password', () => {
  it('reaches the terminal of `npm start` once and no log line', async function () {
    this.timeout(90_000);
    const logged: string[] = [];
    const printed: string[] = [];
    let password: string | undefined;
    // the controller as scripts/start.mjs runs it: its own binary, output piped and split
    const { MTANDAO_ADMIN_PASSWORD: _unset, ...inherited } = process.env;
    const child = spawn(process.execPath, ['--conditions=mtandao-source', '--import', 'tsx', 'controller/bin/mtandao-controller.mjs'], {
      cwd: root,
      env: {
        ...inherited,
        DATABASE_URL: await freshDatabase(),
        MTANDAO_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'mtandao-boot-')),
        MTANDAO_CONTROLLER_PORT: '0',
        MTANDAO_CONTROLLER_HOST: '127.0.0.1',
        MTANDAO_DEMO: '0',
        MTANDAO_LOG_LEVEL: 'debug',
        MTANDAO_SECRET_KEY: TEST_SECRET_KEY,
        MTANDAO_SIGNING_KEY: TEST_SIGNING_KEY,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const listening = new Promise<void>((resolve) => {
      for (const stream of [child.stdout, child.stderr]) {
        forwardLines(stream, {
          log: (line: string) => {
            logged.push(line);
            if (line.includes('controller listening')) resolve();
          },
          print: (text: string) => printed.push(text),
          onBootstrap: (p: string) => {
            password = p;
          },
        });
      }
    });
    try {
      await Promise.race([listening, exited.then(() => Promise.reject(new Error(`the controller exited: ${logged.join('\n')}`)))]);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    expect(password, 'the generated password was handed to the terminal').to.match(/^\S{12,}$/);
    expect(logged.some((l) => l.includes('created the bootstrap admin'))).to.equal(true);
    expect(logged.filter((l) => l.includes(password!))).to.deep.equal([]);
    expect(printed.filter((l) => l.includes(password!))).to.deep.equal([]);
  });
});
