import { expect } from 'chai';
import { constants } from 'node:fs';
import { appendFile, readFile, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { AckMessage, TypedEnvelope } from '@mtandao/protocol';
import { createLogger } from '../src/logger.ts';
import { ensureStateDir } from '../src/state/files.ts';
import { CommandJournal, JOURNAL_APPEND_FLAGS } from '../src/state/journal.ts';
import { applyCustomer, customer, plan, removeDir, tempDir } from './helpers/agent-fixtures.ts';

const logger = createLogger({ level: 'silent' });

function envelope(seq: number, type: TypedEnvelope['type'] = 'customer.apply', payload: unknown = applyCustomer(`c${seq}`)): TypedEnvelope {
  const now = Date.now();
  return {
    v: 1,
    id: `cmd-${seq}`,
    agentId: 'agt_1',
    seq,
    issuedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 3600_000).toISOString(),
    type,
    payload,
  } as TypedEnvelope;
}

function ack(env: TypedEnvelope, status: AckMessage['status'] = 'applied'): AckMessage {
  return {
    type: 'ack',
    agentId: 'agt_1',
    commandId: env.id,
    seq: env.seq,
    status,
    result: { changes: [`did ${env.id}`] },
    durationMs: 3,
    at: new Date().toISOString(),
  };
}

describe('command journal', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
    await ensureStateDir(dir);
  });
  afterEach(() => removeDir(dir));

  const reopen = async (journal?: CommandJournal, options: { keepFinished?: number; compactAfterRecords?: number } = {}): Promise<CommandJournal> => {
    await journal?.close();
    return CommandJournal.open(dir, { logger, ...options });
  };

  it('keeps lastSeq, finished acks and unfinished commands across a reopen', async () => {
    let journal = await reopen();
    const [a, b, c] = [envelope(1), envelope(2), envelope(5)];
    await Promise.all([journal.accept(a), journal.accept(b), journal.accept(c)]);
    const done = ack(a);
    await journal.finish(a.id, done);
    expect(journal.lastSeq).to.equal(5);

    journal = await reopen(journal);
    expect(journal.lastSeq).to.equal(5);
    expect(journal.finishedAck(a.id)).to.deep.equal(done);
    expect(journal.finishedAck(b.id)).to.equal(undefined);
    expect(journal.unfinished().map((e) => e.id)).to.deep.equal([b.id, c.id]);
    await journal.close();
  });

  it('raises lastSeq as soon as a command is accepted, before the write lands', async () => {
    const journal = await reopen();
    const pending = journal.accept(envelope(9));
    expect(journal.lastSeq).to.equal(9);
    await pending;
    await journal.close();
  });

  it('writes the journal 0600', async () => {
    const journal = await reopen();
    await journal.accept(envelope(1));
    expect((await stat(journal.path)).mode & 0o777).to.equal(0o600);
    await journal.close();
  });

  it('tolerates a torn last line from a kill mid-write', async () => {
    let journal = await reopen();
    const a = envelope(1);
    await journal.accept(a);
    await journal.close();
    await appendFile(journal.path, '{"t":"done","id":"cmd-1","seq":1,"ack":{"type":"ack","agentId"');
    journal = await reopen();
    expect(journal.lastSeq).to.equal(1);
    expect(journal.unfinished().map((e) => e.id)).to.deep.equal([a.id]);
    // The torn line is gone from the rewritten file, so the next append starts on a line of its own.
    await journal.finish(a.id, ack(a));
    journal = await reopen(journal);
    expect(journal.finishedAck(a.id)?.status).to.equal('applied');
    await journal.close();
  });

  it('skips a damaged line in the middle and keeps the rest', async () => {
    const a = envelope(1),
      b = envelope(2);
    const lines = [
      JSON.stringify({ t: 'accept', id: a.id, seq: 1, at: new Date().toISOString(), envelope: a }),
      'garbage',
      JSON.stringify({ t: 'accept', id: b.id, seq: 2, at: new Date().toISOString(), envelope: b }),
    ];
    await writeFile(join(dir, 'journal.log'), `${lines.join('\n')}\n`);
    const journal = await reopen();
    expect(journal.unfinished().map((e) => e.id)).to.deep.equal([a.id, b.id]);
    await journal.close();
  });

  it('compacts to the last finished ids but never forgets lastSeq', async () => {
    let journal = await reopen(undefined, { keepFinished: 5, compactAfterRecords: 10 });
    for (let seq = 1; seq <= 30; seq += 1) {
      const env = envelope(seq);
      await journal.accept(env);
      await journal.finish(env.id, ack(env));
    }
    const open = envelope(31);
    await journal.accept(open);
    const lines = (await readFile(journal.path, 'utf8')).trim().split('\n');
    expect(lines.length).to.be.below(20);

    journal = await reopen(journal, { keepFinished: 5 });
    expect(journal.lastSeq).to.equal(31);
    expect(journal.finishedAck('cmd-30')?.status).to.equal('applied');
    expect(journal.finishedAck('cmd-26')?.status).to.equal('applied');
    expect(journal.finishedAck('cmd-25')).to.equal(undefined);
    expect(journal.unfinished().map((e) => e.id)).to.deep.equal([open.id]);
    await journal.close();
  });

  it('keeps the chunks of a reconcile still gathering until it is closed', async () => {
    let journal = await reopen(undefined, { keepFinished: 1, compactAfterRecords: 2 });
    const chunk = envelope(1, 'router.reconcile', {
      router: 'core-1',
      reconcileId: 'r1',
      chunk: { index: 0, count: 2 },
      plans: [plan],
      customers: [customer('c1')],
    });
    await journal.accept(chunk);
    await journal.finish(chunk.id, ack(chunk));
    for (let seq = 2; seq <= 6; seq += 1) {
      const env = envelope(seq);
      await journal.accept(env);
      await journal.finish(env.id, ack(env));
    }
    journal = await reopen(journal, { keepFinished: 1 });
    expect(journal.openChunks().map((c) => c.envelope.id)).to.deep.equal([chunk.id]);
    await journal.closeReconcile('r1');
    journal = await reopen(journal);
    expect(journal.openChunks()).to.deep.equal([]);
    await journal.close();
  });

  it('batches concurrent appends into few writes, each durable when it returns', async () => {
    const journal = await reopen(undefined, { compactAfterRecords: 1_000_000 });
    // count the writes and syncs on the journal's file handle
    const handle = (journal as unknown as { handle: FileHandle }).handle;
    const counts = { write: 0, datasync: 0 };
    const write = handle.write.bind(handle) as (...a: unknown[]) => Promise<unknown>;
    const datasync = handle.datasync.bind(handle);
    Object.assign(handle, {
      write: (...a: unknown[]) => (counts.write++, write(...a)),
      datasync: () => (counts.datasync++, datasync()),
    });
    const envs = Array.from({ length: 200 }, (_, i) => envelope(i + 1));
    await Promise.all(envs.map((e) => journal.accept(e)));
    // appended in one turn of the event loop: one write for all 200
    expect(counts.write, 'writes for 200 records').to.equal(1);
    // every write is synced: by the file's O_DSYNC (what the kernel says the descriptor has), or by a datasync of its own
    if (JOURNAL_APPEND_FLAGS === 'a') expect(counts.datasync, 'syncs for 200 records').to.equal(counts.write);
    else {
      expect(counts.datasync).to.equal(0);
      const fdinfo = await readFile(`/proc/self/fdinfo/${handle.fd}`, 'utf8');
      const flags = Number.parseInt(/^flags:\s*([0-7]+)/m.exec(fdinfo)![1]!, 8);
      expect(flags & constants.O_DSYNC, 'O_DSYNC on the journal descriptor').to.equal(constants.O_DSYNC);
      expect(flags & constants.O_APPEND, 'O_APPEND').to.equal(constants.O_APPEND);
    }
    expect(journal.unfinished()).to.have.length(200);
    await journal.close();
  });

  it('writes the records of one turn together even when they come from separate promise continuations, and flush waits for them', async () => {
    const journal = await reopen(undefined, { compactAfterRecords: 1_000_000 });
    const handle = (journal as unknown as { handle: FileHandle }).handle;
    const writes: string[] = [];
    const write = handle.write.bind(handle) as (data: string) => Promise<unknown>;
    Object.assign(handle, { write: (data: string) => (writes.push(data), write(data)) });
    const envs = Array.from({ length: 6 }, (_, i) => envelope(i + 1));
    await Promise.all(envs.map((e) => journal.accept(e)));
    expect(writes).to.have.length(1);
    // outcomes settling one after another in the same turn (as the replies of one read from a router do)
    let chain = Promise.resolve();
    for (const e of envs) chain = chain.then(() => void journal.finish(e.id, ack(e)));
    await chain;
    await journal.flush();
    expect(writes, 'one write for the six outcomes').to.have.length(2);
    expect(
      writes[1]!
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { t: string; id: string }).id),
    ).to.deep.equal(envs.map((e) => e.id));
    expect(journal.unfinished()).to.deep.equal([]);
    // on disk by the time flush returned
    const reread = await reopen(journal);
    expect(reread.finishedAck('cmd-6')?.status).to.equal('applied');
    await reread.close();
  });

  it('says while a write of outcomes is in flight, and settles that after their finish promises', async () => {
    const journal = await reopen(undefined, { compactAfterRecords: 1_000_000 });
    const e = envelope(1);
    const accepted = journal.accept(e);
    await new Promise((resolve) => setImmediate(resolve));
    expect(journal.outcomesInFlight, 'a write of accepts only').to.equal(undefined);
    await accepted;
    let finished = false;
    void journal.finish(e.id, ack(e)).then(() => (finished = true));
    // the write starts a turn or two later (after the previous flush has wound up)
    for (let i = 0; i < 5 && !journal.outcomesInFlight; i++) await new Promise((resolve) => setImmediate(resolve));
    const landing = journal.outcomesInFlight;
    expect(landing, 'the outcome being written').to.be.instanceOf(Promise);
    await landing;
    expect(finished, 'its finish settled first').to.equal(true);
    expect(journal.outcomesInFlight).to.equal(undefined);
    await journal.close();
  });

  it('appends durably again after a compaction reopened the file', async () => {
    let journal = await reopen(undefined, { compactAfterRecords: 4 });
    for (let seq = 1; seq <= 6; seq++) {
      const e = envelope(seq);
      await journal.accept(e);
      await journal.finish(e.id, ack(e));
    }
    const handle = (journal as unknown as { handle: FileHandle }).handle;
    if (JOURNAL_APPEND_FLAGS !== 'a') {
      const fdinfo = await readFile(`/proc/self/fdinfo/${handle.fd}`, 'utf8');
      expect(Number.parseInt(/^flags:\s*([0-7]+)/m.exec(fdinfo)![1]!, 8) & constants.O_DSYNC).to.equal(constants.O_DSYNC);
    }
    journal = await reopen(journal);
    expect(journal.lastSeq).to.equal(6);
    expect(journal.finishedAck('cmd-6')?.seq).to.equal(6);
    expect(journal.unfinished()).to.have.length(0);
    await journal.close();
  });
});
