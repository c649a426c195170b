import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runCli, EXIT } from '../src/cli.ts';
import { readIdentity } from '../src/state/identity.ts';
import { removeDir, tempDir } from './helpers/agent-fixtures.ts';
import { FakeController } from './helpers/fake-controller.ts';

const BIN = fileURLToPath(new URL('../bin/mtandao-agent.mjs', import.meta.url));

/** Runs the CLI in-process, capturing what it prints. */
async function cli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, env });
  return { code, out, err };
}

describe('mtandao-agent enroll', () => {
  let controller: FakeController;
  let dir: string;
  let stateDir: string;
  beforeEach(async () => {
    controller = await FakeController.start();
    dir = await tempDir();
    stateDir = join(dir, 'state');
  });
  afterEach(async () => {
    await controller.close();
    await removeDir(dir);
  });

  it('stores the identity and a 0600 private key in a 0700 state directory', async () => {
    const token = controller.issueToken();
    const { code, out, err } = await cli(['enroll', '--controller', controller.url, '--token', token, '--state-dir', stateDir, '--hostname', 'pop-1']);
    expect(err).to.equal('');
    expect(code).to.equal(EXIT.ok);
    const identity = (await readIdentity(stateDir))!;
    expect(identity).to.include({
      siteId: 'site_1',
      siteName: 'Test POP',
      controllerUrl: `${controller.url}/`,
      websocketUrl: `ws://127.0.0.1:${controller.port}/agent`,
      hostname: 'pop-1',
    });
    expect(identity.controllerPublicKey).to.equal(controller.key.publicKeyPem);
    expect(out).to.contain(identity.agentId);
    expect((await stat(stateDir)).mode & 0o777).to.equal(0o700);
    for (const file of await readdir(stateDir)) expect((await stat(join(stateDir, file))).mode & 0o777, file).to.equal(0o600);
    const key = await readFile(join(stateDir, 'agent.key'), 'utf8');
    expect(key).to.contain('BEGIN PRIVATE KEY');
    expect(out).not.to.contain(token);
    expect(out).not.to.contain('PRIVATE KEY');
  });

  it("shows the controller's message for a bad token, and exits 3", async () => {
    const { code, out, err } = await cli(['enroll', '--controller', controller.url, '--token', 'not-a-real-token-123', '--state-dir', stateDir]);
    expect(code).to.equal(EXIT.refused);
    expect(err).to.contain('HTTP 401').and.contain('Enrollment token is invalid, expired or already used');
    expect(err + out).not.to.contain('not-a-real-token-123');
    expect(await readIdentity(stateDir)).to.equal(undefined);
  });

  it('refuses a token the second time', async () => {
    const token = controller.issueToken();
    expect((await cli(['enroll', '--controller', controller.url, '--token', token, '--state-dir', stateDir])).code).to.equal(EXIT.ok);
    const again = await cli(['enroll', '--controller', controller.url, '--token', token, '--state-dir', join(dir, 'other')]);
    expect(again.code).to.equal(EXIT.refused);
  });

  it('names the network error when the controller cannot be reached, and exits 4', async () => {
    const url = controller.url;
    await controller.close();
    const { code, err } = await cli(['enroll', '--controller', url, '--token', 'some-token-12345', '--state-dir', stateDir]);
    expect(code).to.equal(EXIT.unavailable);
    expect(err).to.contain(`cannot reach the controller at ${url}`).and.contain('ECONNREFUSED');
    expect(err).not.to.contain('some-token-12345');
    controller = await FakeController.start();
  });

  it('will not overwrite an identity without --force, and starts a fresh journal with it', async () => {
    expect((await cli(['enroll', '--controller', controller.url, '--token', controller.issueToken(), '--state-dir', stateDir])).code).to.equal(EXIT.ok);
    const first = (await readIdentity(stateDir))!;
    await writeFile(join(stateDir, 'journal.log'), '{"t":"meta","v":1,"lastSeq":99}\n');
    const refused = await cli(['enroll', '--controller', controller.url, '--token', controller.issueToken(), '--state-dir', stateDir]);
    expect(refused.code).to.equal(EXIT.usage);
    expect(refused.err).to.contain(first.agentId).and.contain('--force');
    const forced = await cli(['enroll', '--controller', controller.url, '--token', controller.issueToken(), '--state-dir', stateDir, '--force']);
    expect(forced.code).to.equal(EXIT.ok);
    expect((await readIdentity(stateDir))!.agentId).not.to.equal(first.agentId);
    expect(await readdir(stateDir)).not.to.include('journal.log');
  });

  it('reads the token from --token-file', async () => {
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, `${controller.issueToken()}\n`);
    expect((await cli(['enroll', '--controller', controller.url, '--token-file', tokenFile, '--state-dir', stateDir])).code).to.equal(EXIT.ok);
  });

  it('explains missing or unknown arguments with exit 2', async () => {
    const missing = await cli(['enroll', '--token', 'abcdefghijkl']);
    expect(missing.code).to.equal(EXIT.usage);
    expect(missing.err).to.contain('--controller');
    const unknown = await cli(['enroll', '--controller', controller.url, '--token', 'abcdefghijkl', '--tokn', 'x']);
    expect(unknown.code).to.equal(EXIT.usage);
    expect(unknown.err).to.contain("'--tokn'");
    expect((await cli(['frobnicate'])).err).to.contain('unknown command "frobnicate"');
  });

  it('uses ${MTANDAO_DATA_DIR}/agent when no state directory is given', async () => {
    const { code } = await cli(['enroll', '--controller', controller.url, '--token', controller.issueToken()], { MTANDAO_DATA_DIR: dir });
    expect(code).to.equal(EXIT.ok);
    expect(await readIdentity(join(dir, 'agent'))).not.to.equal(undefined);
  });

  it('works through the bin shim', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--conditions=mtandao-source',
      '--import',
      'tsx',
      BIN,
      'enroll',
      '--controller',
      controller.url,
      '--token',
      controller.issueToken(),
      '--state-dir',
      stateDir,
    ]);
    expect(stdout).to.contain('enrolled as agent');
  });
});
