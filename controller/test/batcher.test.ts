import { expect } from 'chai';
import { Batcher, bisectOnFailure, type Outcome } from '../src/lib/batcher.ts';

/** A run that records its batches and finishes each when told. */
function recorder() {
  const batches: number[][] = [];
  const pending: (() => void)[] = [];
  let running = 0;
  let most = 0;
  const run = (items: number[]): Promise<Outcome<number>[]> => {
    batches.push(items);
    running += 1;
    most = Math.max(most, running);
    return new Promise((resolve) =>
      pending.push(() => {
        running -= 1;
        resolve(items.map((i) => (i < 0 ? { ok: false, error: new Error(`bad ${i}`) } : { ok: true, value: i * 10 })));
      }),
    );
  };
  const finishOne = async () => {
    while (pending.length === 0) await new Promise((r) => setImmediate(r));
    pending.shift()!();
  };
  return { batches, run, finishOne, most: () => most };
}

describe('Batcher (group commit)', () => {
  it('a lone call goes out at once, alone', async () => {
    const r = recorder();
    const b = new Batcher(r.run, { maxInFlight: 1, maxBatch: 64 });
    const p = b.submit(1);
    await r.finishOne();
    expect(await p).to.equal(10);
    expect(r.batches).to.deep.equal([[1]]);
  });

  it('calls of one turn share a batch; calls during a write form the next one', async () => {
    const r = recorder();
    const b = new Batcher(r.run, { maxInFlight: 1, maxBatch: 64 });
    const first = [1, 2, 3].map((i) => b.submit(i));
    await new Promise((res) => setImmediate(res));
    const second = [4, 5, 6, 7].map((i) => b.submit(i));
    await r.finishOne();
    await r.finishOne();
    expect(await Promise.all([...first, ...second])).to.deep.equal([10, 20, 30, 40, 50, 60, 70]);
    expect(r.batches).to.deep.equal([
      [1, 2, 3],
      [4, 5, 6, 7],
    ]);
    expect(b.stats).to.deep.equal({ batches: 2, items: 7 });
  });

  it('never runs more than maxInFlight batches, nor more than maxBatch items in one', async () => {
    const r = recorder();
    const b = new Batcher(r.run, { maxInFlight: 2, maxBatch: 3 });
    const all = Array.from({ length: 10 }, (_, i) => b.submit(i));
    for (let i = 0; i < 4; i++) await r.finishOne();
    expect(await Promise.all(all)).to.deep.equal(Array.from({ length: 10 }, (_, i) => i * 10));
    expect(r.most()).to.equal(2);
    expect(r.batches.map((x) => x.length)).to.deep.equal([3, 3, 3, 1]);
  });

  it("one item's failure is its own; a failed run fails its batch only", async () => {
    const r = recorder();
    const b = new Batcher(r.run, { maxInFlight: 1, maxBatch: 64 });
    const ps = [1, -2, 3].map((i) =>
      b.submit(i).then(
        (v) => v,
        (e: Error) => e.message,
      ),
    );
    await r.finishOne();
    expect(await Promise.all(ps)).to.deep.equal([10, 'bad -2', 30]);

    let calls = 0;
    const failing = new Batcher<number, number>(
      async (items) => {
        calls += 1;
        if (calls === 1) throw new Error('connection lost');
        return items.map((i) => ({ ok: true, value: i }));
      },
      { maxInFlight: 1, maxBatch: 64 },
    );
    const lost = [1, 2].map((i) =>
      failing.submit(i).then(
        (v) => v,
        (e: Error) => e.message,
      ),
    );
    expect(await Promise.all(lost)).to.deep.equal(['connection lost', 'connection lost']);
    expect(await failing.submit(3)).to.equal(3);
  });

  it('bisectOnFailure: a failed batch is rerun in halves, so only the bad item fails', async () => {
    const runs: number[][] = [];
    const run = async (batch: number[]) => {
      runs.push(batch);
      if (batch.includes(2)) throw new Error('duplicate key');
      return batch.map((i) => i * 10);
    };
    const outcomes = await bisectOnFailure([1, 2, 3, 4, 5, 6, 7, 8], run);
    expect(outcomes.map((o) => (o.ok ? o.value : (o.error as Error).message))).to.deep.equal([10, 'duplicate key', 30, 40, 50, 60, 70, 80]);
    // the half without it is written in one go; the half with it is halved again
    expect(runs).to.deep.equal([[1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4], [1, 2], [1], [2], [3, 4], [5, 6, 7, 8]]);
    runs.length = 0;
    expect(await bisectOnFailure([2], run)).to.have.length(1);
    expect(runs).to.have.length(1); // a batch of one is not run twice
  });
});
