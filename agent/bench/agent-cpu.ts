// The agent's CPU per command, alone: a stand-in controller (this process) sends signed
// `customer.apply` (fresh) frames the way the dispatcher does (batches of BATCH frames, WINDOW
// frames in flight) to a real agent in its own process, which applies them on an emulated router in
// a third process. Prints the agent process's CPU (user + system, all its threads) per command,
// the emulator's, and how many acks each signed agent message carried.
// From agent/: node --conditions=mtandao-source --import tsx bench/agent-cpu.ts  (BENCH_N, BENCH_BATCH, BENCH_WINDOW, BENCH_ROUNDS, BENCH_FRAMES=batch)
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sealCommandBatchText, sealCommandText, type CommandFields } from '@mtandao/protocol/signing';
import type { AckMessage } from '@mtandao/protocol';
import { FakeController } from '../test/helpers/fake-controller.ts';
import { enrolledStateDir } from '../test/helpers/agent-fixtures.ts';

const role = process.argv[2] ?? 'main';
const N = Number(process.env.BENCH_N ?? 2000);
const BATCH = Number(process.env.BENCH_BATCH ?? 16);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 64);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCHED = process.env.BENCH_FRAMES === 'batch';

function cpuMs(pid: number, kernelOnly = false): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (((kernelOnly ? 0 : Number(f[11])) + Number(f[12])) * 1000) / 100;
}

function child(args: string[]): Promise<{ proc: ChildProcess; first: Record<string, unknown> }> {
  const proc = fork(fileURLToPath(import.meta.url), args, {
    execArgv: ['--conditions=mtandao-source', '--import', 'tsx', ...(process.env.BENCH_CHILD_ARGS?.split(' ').filter(Boolean) ?? [])],
  });
  return new Promise((resolve) => proc.once('message', (first: Record<string, unknown>) => resolve({ proc, first })));
}

if (role === 'sim') {
  const { RouterOsSim } = await import('@mtandao/routeros-sim');
  const sim = new RouterOsSim({ username: 'bench', password: 'bench', sshPort: null });
  const { apiPort } = await sim.start();
  process.send!({ apiPort });
  process.on('message', () => process.exit(0));
} else if (role === 'agent') {
  // BENCH_AGENT_SRC: another copy of src/ (e.g. the base of an A/B), inside this workspace so its imports resolve
  const { startAgent } = (await import(process.env.BENCH_AGENT_SRC ?? '../src/agent.ts')) as typeof import('../src/agent.ts');
  const agent = await startAgent({
    stateDir: process.argv[3]!,
    config: {
      routers: [{ name: 'core-1', host: '127.0.0.1', port: Number(process.argv[4]), transport: 'api', username: 'bench', password: 'bench' }],
      logLevel: 'silent',
      healthIntervalSeconds: 3600,
    },
  });
  await agent.whenConnected();
  process.send!({ ready: true });
  // exits when told (a --cpu-prof in BENCH_CHILD_ARGS is written at exit)
  process.on('message', () => process.exit(0));
} else {
  const controller = await FakeController.start({ capability: 3 });
  const { stateDir, agentId } = await enrolledStateDir(controller);
  const sim = await child(['sim']);
  const agent = await child(['agent', stateDir, String(sim.first.apiPort)]);
  await controller.until(() => controller.connections === 1);
  const plan = { planId: '1', name: 'Home 10M', connectionType: 'pppoe', uploadSpeed: '5M', downloadSpeed: '10M', localAddress: '10.64.0.1' };
  let seq = 0;
  let job = 0;
  const fields = (): CommandFields => {
    const id = randomUUID();
    job += 1;
    const customer = {
      customerId: String(job),
      connectionType: 'pppoe',
      username: `bench-${job}`,
      password: 'pw-1234-abcd',
      status: 'active',
      ipAddress: `10.${64 + (job >> 16)}.${(job >> 8) & 255}.${job & 255}`,
      plan,
    };
    return {
      id,
      agentId,
      seq: ++seq,
      issuedAt: new Date(),
      expiresAt: new Date(Date.now() + 3_600_000),
      type: 'customer.apply',
      payload: { router: 'core-1', customer, ...(job > 1 ? { fresh: true } : {}) },
      job: { jobId: String(job), attempt: 1, routerId: '7' },
    };
  };
  const frame = (): { id: string; text: string } => {
    const f = fields();
    return { id: f.id, text: sealCommandText(f, controller.key.privateKey) };
  };
  // the plan's profile first, as the controller's first job would carry it
  const warm = frame();
  controller.send(warm.text);
  await controller.until(() => controller.acks(warm.id).length > 0, 20_000);
  const agentRounds: number[] = [];
  const simRounds: number[] = [];
  const kernelRounds: number[] = [];
  const acksPerMessage: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const seen = controller.messages.length;
    const a0 = cpuMs(agent.proc.pid!);
    const k0 = cpuMs(agent.proc.pid!, true);
    const s0 = cpuMs(sim.proc.pid!);
    const t0 = performance.now();
    let sent = 0;
    const acked = (): number => {
      let n = 0;
      for (let i = seen; i < controller.messages.length; i++) {
        const m = controller.messages[i]!.msg;
        n += m.type === 'ack' ? 1 : m.type === 'acks' ? m.acks.length : 0;
      }
      return n;
    };
    while (sent < N) {
      await controller.until(() => sent - acked() + BATCH <= WINDOW, 30_000);
      const n = Math.min(BATCH, N - sent);
      // BENCH_FRAMES=batch: each batch as one `commands` frame under one signature (capability 4)
      if (BATCHED) controller.send(sealCommandBatchText(Array.from({ length: n }, fields), controller.key.privateKey));
      else for (let i = 0; i < n; i++) controller.send(frame().text);
      sent += n;
    }
    await controller.until(() => acked() >= N, 60_000);
    const ms = performance.now() - t0;
    const agentMs = cpuMs(agent.proc.pid!) - a0;
    const kernelMs = cpuMs(agent.proc.pid!, true) - k0;
    const simMs = cpuMs(sim.proc.pid!) - s0;
    const msgs = controller.messages.slice(seen).filter((m) => m.msg.type === 'ack' || m.msg.type === 'acks');
    const bad = msgs.flatMap((m) => (m.msg.type === 'acks' ? m.msg.acks : [m.msg as AckMessage])).filter((a) => a.status !== 'applied');
    if (bad.length > 0) throw new Error(`not applied: ${JSON.stringify(bad[0])}`);
    agentRounds.push(Math.round((agentMs / N) * 1000));
    kernelRounds.push(Math.round((kernelMs / N) * 1000));
    simRounds.push(Math.round((simMs / N) * 1000));
    acksPerMessage.push(+(N / msgs.length).toFixed(1));
    if (process.env.BENCH_VERBOSE)
      console.log(
        JSON.stringify({
          n: N,
          batch: BATCH,
          window: WINDOW,
          perSecond: Math.round((N / ms) * 1000),
          agentCpuUsPerCmd: Math.round((agentMs / N) * 1000),
          simCpuUsPerCmd: Math.round((simMs / N) * 1000),
          ackMessages: msgs.length,
          acksPerMessage: +(N / msgs.length).toFixed(1),
        }),
      );
  }
  console.log(
    JSON.stringify({
      summary: 'min over rounds',
      agentCpuUsPerCmd: Math.min(...agentRounds),
      agentRounds,
      agentKernelRounds: kernelRounds,
      simRounds,
      acksPerMessage: acksPerMessage.join(' '),
    }),
  );
  await Promise.all([agent, sim].map(({ proc }) => new Promise((resolve) => proc.once('exit', resolve).send('exit'))));
  await controller.close();
  process.exit(0);
}
