import { expect } from 'chai';
import type { AckMessage } from '@mtandao/protocol';
import { readAck, retryDelayMs } from '../src/gateway/ack-reading.ts';

const ack = (over: Partial<AckMessage>): AckMessage => ({
  type: 'ack',
  agentId: 'a1',
  commandId: 'j7-1-abcdef12',
  seq: 9,
  status: 'applied',
  durationMs: 12,
  at: new Date(0).toISOString(),
  ...over,
});
const error = (code: string, retryable: boolean) => ({ code, message: `${code} happened`, retryable });

describe('reading an ack', () => {
  const cases: [string, Partial<AckMessage>, Record<string, unknown>][] = [
    [
      'applied, listing what changed',
      { result: { changes: ['added secret alice'] } },
      { kind: 'applied', event: 'applied on the router in 12 ms: added secret alice' },
    ],
    ['applied with nothing to change', { result: { changes: [] } }, { kind: 'applied', event: 'applied on the router in 12 ms: nothing to change' }],
    [
      'a duplicate without an error: applied before, acknowledged again',
      { status: 'duplicate' },
      { kind: 'applied', event: 'applied on the router in 12 ms (already applied: acknowledged again): nothing to change' },
    ],
    [
      'a chunk before the last of a reconcile: progress on the job',
      { commandId: 'j7-1-abcdef12.0', job: { jobId: '7', attempt: 1, chunk: { index: 0, count: 3 }, routerId: '2' } },
      { kind: 'progress', commandId: 'j7-1-abcdef12', event: 'reconcile chunk 1 received by the agent' },
    ],
    [
      'the last chunk settles the job',
      { commandId: 'j7-1-abcdef12', job: { jobId: '7', attempt: 1, chunk: { index: 2, count: 3 }, routerId: '2' } },
      { kind: 'applied', commandId: 'j7-1-abcdef12' },
    ],
    ['a replayed seq: sent again at once', { status: 'rejected', error: error('replayed-seq', false) }, { kind: 'requeue' }],
    ['a router that cannot be reached: retried', { status: 'failed', error: error('unreachable', true) }, { kind: 'retry', error: 'unreachable happened' }],
    [
      'a command the router refuses: failed, in words',
      { status: 'failed', error: error('router-error', false) },
      { kind: 'failed', error: 'failed: router-error happened' },
    ],
    [
      'a command the agent refuses: failed, naming why',
      { status: 'rejected', error: error('bad-signature', false) },
      { kind: 'failed', error: 'agent rejected the command (bad-signature): bad-signature happened' },
    ],
  ];
  for (const [name, over, want] of cases)
    it(name, () => {
      expect(readAck(ack(over))).to.include({ commandId: 'j7-1-abcdef12', ...want });
    });

  it('backs off 1 s, 2 s, 4 s … up to a minute, each between half and all of it', () => {
    for (const [attempts, ceiling] of [
      [1, 1000],
      [2, 2000],
      [3, 4000],
      [10, 60_000],
    ] as const)
      for (let i = 0; i < 20; i++) expect(retryDelayMs(attempts)).to.be.within(ceiling / 2, ceiling);
  });
});
