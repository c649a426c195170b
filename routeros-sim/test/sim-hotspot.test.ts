import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { LOGIN_ERRORS } from '../src/index.ts';
import { startRouter, type Router } from './helpers/fixtures.ts';

/** Bytes of a login page's `\ooo` escapes. */
const unescapeOctal = (s: string): Buffer => Buffer.from([...s.matchAll(/\\([0-7]{3})/g)].map((m) => parseInt(m[1]!, 8)));

describe('RouterOS emulator hotspot', () => {
  let router: Router;
  const phone = { mac: '02:AA:BB:CC:DD:01', ip: '10.5.50.11' };
  const laptop = { mac: '02:AA:BB:CC:DD:02', ip: '10.5.50.12' };
  before(async () => {
    router = await startRouter({ sshPort: null, hotspotPort: 0 });
    const { store } = router.sim;
    store.add('/ip/hotspot/user/profile', { name: 'day', 'shared-users': '1' });
    store.add('/ip/hotspot/user/profile', { name: 'family', 'shared-users': '2' });
    store.add('/ip/hotspot/user', { name: 'K7Q2MXPA', password: 'K7Q2MXPA', profile: 'day', 'limit-uptime': '1h' });
    store.add('/ip/hotspot/user', { name: 'fam', password: 'secret', profile: 'family', 'limit-bytes-total': '1000' });
  });
  afterEach(() => {
    for (const r of router.sim.store.list('/ip/hotspot/active')) router.sim.store.remove('/ip/hotspot/active', [r['.id']!]);
  });
  after(() => router.sim.stop());

  const post = async (url: string, form: Record<string, string>) => {
    const res = await fetch(url, { method: 'POST', body: new URLSearchParams(form), redirect: 'manual' });
    return { status: res.status, text: await res.text() };
  };

  it('serves login.html with MikroTik variables and logs a device in by PAP through the form', async () => {
    router.sim.hotspotHttp.files.set('login.html', '<form action="$(link-login-only)">$(mac) $(ip) $(chap-id) $(link-orig) $(error)</form>');
    const page = await (await fetch(router.sim.hotspotHttp.loginUrl(phone, 'http://example.com/'))).text();
    router.sim.hotspotHttp.files.delete('login.html');
    expect(page).to.contain(phone.mac).and.contain(phone.ip).and.contain('http://example.com/');
    expect(page).to.match(/\\[0-7]{3}/);
    const action = /action="([^"]+)"/.exec(page)![1]!;
    const ok = await post(action, { username: 'K7Q2MXPA', password: 'K7Q2MXPA', dst: 'http://example.com/' });
    expect(ok.text).to.contain('You are online');
    const active = router.sim.store.list('/ip/hotspot/active');
    expect(active).to.have.length(1);
    expect(active[0]).to.include({ user: 'K7Q2MXPA', 'mac-address': phone.mac, address: phone.ip });
  });

  it('accepts a CHAP response md5(chap-id + password + chap-challenge) and refuses a wrong one', async () => {
    router.sim.hotspotHttp.files.set('login.html', 'ID=$(chap-id);CH=$(chap-challenge);TO=$(link-login-only)');
    const page = await (await fetch(router.sim.hotspotHttp.loginUrl(phone))).text();
    router.sim.hotspotHttp.files.delete('login.html');
    const [, id, ch, to] = /ID=(.*);CH=(.*);TO=(.*)/.exec(page)!;
    const hash = (pw: string) =>
      createHash('md5')
        .update(Buffer.concat([unescapeOctal(id!), Buffer.from(pw), unescapeOctal(ch!)]))
        .digest('hex');
    const bad = await post(to!, { username: 'K7Q2MXPA', password: hash('wrong') });
    expect(bad.text).to.contain(LOGIN_ERRORS.invalid);
    expect(router.sim.store.list('/ip/hotspot/active')).to.have.length(0);
    await fetch(router.sim.hotspotHttp.loginUrl(phone)); // a new page, a new challenge
    router.sim.hotspotHttp.files.set('login.html', 'ID=$(chap-id);CH=$(chap-challenge);TO=$(link-login-only)');
    const again = await (await fetch(router.sim.hotspotHttp.loginUrl(phone))).text();
    router.sim.hotspotHttp.files.delete('login.html');
    const [, id2, ch2] = /ID=(.*);CH=(.*);TO=(.*)/.exec(again)!;
    const good = createHash('md5')
      .update(Buffer.concat([unescapeOctal(id2!), Buffer.from('K7Q2MXPA'), unescapeOctal(ch2!)]))
      .digest('hex');
    expect((await post(to!, { username: 'K7Q2MXPA', password: good })).text).to.contain('You are online');
    expect(router.sim.store.list('/ip/hotspot/active')[0]).to.include({ 'login-by': 'http-chap' });
  });

  it("honours the profile's shared-users: a second device is refused on a one-user profile, allowed on a two-user one", () => {
    const { hotspot } = router.sim;
    expect(hotspot.login(phone, { username: 'K7Q2MXPA', password: 'K7Q2MXPA' })).to.have.property('session');
    expect(hotspot.login(laptop, { username: 'K7Q2MXPA', password: 'K7Q2MXPA' })).to.deep.equal({ error: LOGIN_ERRORS.shared });
    expect(hotspot.login(phone, { username: 'fam', password: 'secret' })).to.have.property('session');
    expect(hotspot.login(laptop, { username: 'fam', password: 'secret' })).to.have.property('session');
  });

  it('counts uptime and bytes on the session and the user, and logs the user out at its limit', () => {
    const { hotspot, store } = router.sim;
    const r = hotspot.login(phone, { username: 'fam', password: 'secret' });
    if (!('session' in r)) throw new Error(r.error);
    const before = Number(store.lookup('/ip/hotspot/user', 'name', 'fam')![0]!['bytes-in']);
    hotspot.advance(r.session['.id']!, { seconds: 600, bytesIn: 100, bytesOut: 50 });
    const s = store.get('/ip/hotspot/active', r.session['.id']!)!;
    expect(s.uptime).to.match(/^10m/);
    expect(s).to.include({ 'bytes-in': '100', 'bytes-out': '50' });
    const user = store.lookup('/ip/hotspot/user', 'name', 'fam')![0]!;
    expect(Number(user['bytes-in'])).to.equal(before + 100);
    hotspot.advance(r.session['.id']!, { bytesIn: 1000 });
    expect(store.list('/ip/hotspot/active')).to.have.length(0);
    expect(hotspot.login(phone, { username: 'fam', password: 'secret' })).to.deep.equal({ error: LOGIN_ERRORS.traffic });
  });

  it('keeps walled-garden entries like any menu', () => {
    const id = router.sim.store.add('/ip/hotspot/walled-garden', { 'dst-host': 'portal.example.net', comment: 'mtandao-portal' });
    expect(router.sim.store.get('/ip/hotspot/walled-garden', id)).to.include({ action: 'allow', 'dst-host': 'portal.example.net' });
  });

  it('a fresh hotspot user has no uptime however old it is', () => {
    expect(router.sim.store.lookup('/ip/hotspot/user', 'name', 'K7Q2MXPA')![0]).to.include({ uptime: '0s' });
  });
});
