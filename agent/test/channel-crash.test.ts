import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AckMessage, CommandFrame } from '@mtandao/protocol';
import { applyCustomer, enrolledStateDir, removeDir, ROUTER_PASSWORD } from './helpers/agent-fixtures.ts';
import { FakeController } from './helpers/fake-controller.ts';

const CHILD = fileURLToPath(new URL('./helpers/slow-agent.ts', import.meta.url));

function startChild(args: string[]): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(process.execPath, ['--conditions=mtandao-source', '--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return { child, output: () => output };
}

const exited = (child: ChildProcess): Promise<unknown> =>
  new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)));

async function effects(path: string): Promise<{ starts: string[]; ends: string[] }> {
  const lines = (await readFile(path, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  return { starts: lines.filter((l) => l.startsWith('start ')).map((l) => l.slice(6)), ends: lines.filter((l) => l.startsWith('end ')).map((l) => l.slice(4)) };
}

const count = (list: string[], id: string): number => list.filter((x) => x === id).length;

describe('agent channel: killed mid-batch', function () {
  this.timeout(30_000);
  let controller: FakeController;
  let stateDir: string;
  let agentId: string;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    controller = await FakeController.start();
    ({ stateDir, agentId } = await enrolledStateDir(controller));
  });

  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.kill('SIGKILL');
      await exited(child);
    }
    await controller.close();
    await removeDir(dirname(stateDir));
  });

  it('finishes every accepted command exactly once in effect after a SIGKILL and restart', async () => {
    const dir = dirname(stateDir);
    const config = join(dir, 'agent.json');
    await writeFile(
      config,
      JSON.stringify({
        routers: [{ name: 'core-1', host: '127.0.0.1', port: 8728, transport: 'api', username: 'admin', password: ROUTER_PASSWORD }],
        logLevel: 'info',
      }),
    );
    const run1 = join(dir, 'effects-1'),
      run2 = join(dir, 'effects-2');

    const first = startChild([stateDir, config, run1, '300']);
    children.push(first.child);
    await controller
      .until(() => controller.messages.some((m) => m.msg.type === 'hello'), 15_000)
      .catch((err: Error) => {
        throw new Error(`${err.message}\n${first.output()}`);
      });

    // 40 customers (32 run at once, 8 wait for a slot) and three commands in order for one more.
    const frames: CommandFrame[] = Array.from({ length: 40 }, (_, i) => controller.seal(agentId, 'customer.apply', applyCustomer(`c${i}`)));
    for (let i = 0; i < 3; i += 1) frames.push(controller.seal(agentId, 'customer.apply', applyCustomer('ordered')));
    for (const frame of frames) controller.send(frame);
    const ids = frames.map((f) => f.envelope.id as string);

    await controller.until(() => controller.messages.some((m) => m.msg.type === 'ack'), 10_000);
    first.child.kill('SIGKILL');
    await exited(first.child);
    const ackedBefore = new Set(controller.messages.filter((m) => m.msg.type === 'ack').map((m) => (m.msg as AckMessage).commandId));
    const before = await effects(run1);
    expect(ackedBefore.size, 'some acked before the kill').to.be.within(1, ids.length - 1);
    expect(before.starts.length - before.ends.length, 'some were running at the kill').to.be.above(0);

    // The controller, on the new connection, redelivers everything it has no ack for, in seq order.
    const second = startChild([stateDir, config, run2, '20']);
    children.push(second.child);
    const hellos = (): number => controller.messages.filter((m) => m.msg.type === 'hello').length;
    await controller
      .until(() => hellos() === 2, 15_000)
      .catch((err: Error) => {
        throw new Error(`${err.message}\n${second.output()}`);
      });
    for (const frame of frames) if (!ackedBefore.has(frame.envelope.id as string)) controller.send(frame);
    await controller.until(() => ids.every((id) => controller.acks(id).some((a) => a.status === 'applied' || a.status === 'duplicate')), 15_000);

    const after = await effects(run2);
    for (const id of ids) {
      const everyAck = controller.acks(id);
      expect(
        everyAck.every((a) => a.status === 'applied' || a.status === 'duplicate'),
        `acks of ${id}`,
      ).to.equal(true);
      expect(count(before.ends, id) + count(after.ends, id), `${id} finished`).to.be.at.least(1);
      if (ackedBefore.has(id)) expect(count(after.starts, id), `${id} acked before the kill ran again`).to.equal(0);
      // Interrupted or never started: re-run once from the journal; the redelivery is a duplicate, not a second run.
      else if (!before.ends.includes(id)) expect(count(after.starts, id), `${id} runs once after the restart`).to.equal(1);
      // Finished but its ack was lost with the process: at most one idempotent re-run, never two.
      else expect(count(after.starts, id), `${id} after the restart`).to.be.at.most(1);
    }
    const hello = controller.messages.filter((m) => m.msg.type === 'hello').at(-1)!.msg as { lastSeq: number };
    expect(hello.lastSeq).to.equal(frames.length);
    // Commands for one customer ran in order in the second run too: every one not finished before
    // the kill (checked above), and a finished one whose ack the kill lost only if its outcome had
    // not reached the journal yet.
    const ordered = ids.slice(40).filter((id) => !ackedBefore.has(id));
    const ranAgain = after.starts.filter((id) => ordered.includes(id));
    expect(ranAgain).to.deep.equal(ordered.filter((id) => ranAgain.includes(id)));
    expect(ranAgain).to.include.members(ordered.filter((id) => !before.ends.includes(id)));
  });
});
