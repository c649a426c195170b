import { expect } from 'chai';
import { SessionCache } from '../src/services/session-cache.ts';
import type { SessionUser } from '../src/repositories/users.repository.ts';

const row = (id: string, userId = '1'): SessionUser => ({
  session_id: id,
  expires_at: null,
  last_seen_at: new Date(0),
  user_id: userId,
  username: 'u',
  role: 'staff',
  disabled: false,
});

describe('session cache', () => {
  it('answers for a second from when the session was read, however often it is asked', () => {
    const cache = new SessionCache(1000);
    cache.set(row('a'), 0);
    for (let t = 0; t < 1000; t += 100) expect(cache.get('a', t), `at ${t} ms`).to.not.equal(undefined);
    expect(cache.get('a', 1000)).to.equal(undefined);
  });

  it('drops one session, or every session of a user, at once', () => {
    const cache = new SessionCache(1000);
    cache.set(row('a', '1'), 0);
    cache.set(row('b', '1'), 0);
    cache.set(row('c', '2'), 0);
    cache.dropSession('c');
    expect(cache.get('c', 1)).to.equal(undefined);
    cache.dropUser('1');
    expect([cache.get('a', 1), cache.get('b', 1)]).to.deep.equal([undefined, undefined]);
  });
});
