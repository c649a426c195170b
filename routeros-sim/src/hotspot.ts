/**
 * The hotspot's side of a device: its login (PAP, or CHAP — md5 of the one-byte chap-id, the
 * password and the 16-byte challenge, as MikroTik's login.html sends it), the `/ip/hotspot/active`
 * entry it creates, and the counters a session runs up. Limits are the router's: `shared-users` of
 * the user's profile, `limit-uptime` and `limit-bytes-total` of the user.
 */
import { createHash, randomBytes } from 'node:crypto';
import { formatDuration, parseDuration } from '@mtandao/agent/routeros-values';
import type { RouterStore, Row } from './store.ts';

/** A device behind the hotspot, as the router knows it. */
export interface Device {
  mac: string;
  ip: string;
}

/** What a login attempt sends: the password in clear (PAP) or the CHAP response in hex. */
export interface LoginAttempt {
  username: string;
  password: string;
}

/** RouterOS's own texts for a refused hotspot login (`$(error)` on the login page). */
export const LOGIN_ERRORS = {
  invalid: 'invalid username or password',
  shared: 'no more sessions are allowed for user',
  uptime: 'user has reached uptime limit',
  traffic: 'user has reached traffic limit',
  disabled: 'user is disabled',
} as const;

/** A CHAP challenge handed to one device (the login page's `$(chap-id)` and `$(chap-challenge)`). */
export interface Challenge {
  id: Buffer;
  challenge: Buffer;
}

/** `\\ooo` for every byte: how the login page writes chap-id and chap-challenge into JavaScript. */
export const octalEscape = (bytes: Buffer): string => [...bytes].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');

const num = (v: string | undefined): number => Number(v ?? 0) || 0;
const seconds = (v: string | undefined): number => (v ? (parseDuration(v) ?? 0) : 0);

/** The hotspot of an emulated router. */
export class Hotspot {
  private readonly challenges = new Map<string, Challenge>();

  constructor(private readonly store: RouterStore) {}

  /** A fresh challenge for a device (each login page gets one; the last one counts). */
  challengeFor(device: Device): Challenge {
    const c = { id: randomBytes(1), challenge: randomBytes(16) };
    this.challenges.set(device.mac.toUpperCase(), c);
    return c;
  }

  /** The device's session, if it is logged in. */
  sessionOf(device: Device): Row | undefined {
    return this.store.list('/ip/hotspot/active').find((r) => r['mac-address']?.toUpperCase() === device.mac.toUpperCase());
  }

  /**
   * Logs a device in: the user must exist, be enabled, match the password (PAP or CHAP), be under
   * its limits and under its profile's shared-users. Returns the session row, or RouterOS's error.
   */
  login(device: Device, attempt: LoginAttempt): { session: Row } | { error: string } {
    const user = this.store.lookup('/ip/hotspot/user', 'name', attempt.username)?.[0];
    if (!user || !this.passwordMatches(device, user.password ?? '', attempt.password)) return { error: LOGIN_ERRORS.invalid };
    if (user.disabled === 'true') return { error: LOGIN_ERRORS.disabled };
    const limitUptime = seconds(user['limit-uptime']);
    if (limitUptime > 0 && seconds(user.uptime) >= limitUptime) return { error: LOGIN_ERRORS.uptime };
    const limitBytes = num(user['limit-bytes-total']);
    if (limitBytes > 0 && num(user['bytes-in']) + num(user['bytes-out']) >= limitBytes) return { error: LOGIN_ERRORS.traffic };
    const existing = this.sessionOf(device);
    if (existing && existing.user === attempt.username) return { session: existing };
    if (existing) this.store.remove('/ip/hotspot/active', [existing['.id']!]);
    const profile = this.store.list('/ip/hotspot/user/profile').find((p) => p.name === (user.profile ?? 'default'));
    const shared = num(profile?.['shared-users']) || 1;
    const sessions = this.store.lookup('/ip/hotspot/active', 'user', attempt.username) ?? [];
    if (sessions.length >= shared) return { error: LOGIN_ERRORS.shared };
    const chap = this.challenges.has(device.mac.toUpperCase());
    const id = this.store.add(
      '/ip/hotspot/active',
      { user: attempt.username, address: device.ip, 'mac-address': device.mac.toUpperCase(), 'login-by': chap ? 'http-chap' : 'http-pap' },
      { internal: true },
    );
    this.challenges.delete(device.mac.toUpperCase());
    return { session: this.store.get('/ip/hotspot/active', id)! };
  }

  /** Logs a device out (its session's use stays counted on the user). */
  logout(device: Device): boolean {
    const s = this.sessionOf(device);
    if (!s) return false;
    this.store.remove('/ip/hotspot/active', [s['.id']!]);
    return true;
  }

  /**
   * Moves a session on by `seconds` and bytes (a test's knob for time and traffic): the session and
   * its user both count them, and a user past a limit is logged out as the router would.
   */
  advance(sessionId: string, use: { seconds?: number; bytesIn?: number; bytesOut?: number }): void {
    const s = this.store.get('/ip/hotspot/active', sessionId);
    if (!s) throw new Error(`no hotspot session ${sessionId}`);
    const dt = use.seconds ?? 0;
    this.store.setCounters(
      '/ip/hotspot/active',
      sessionId,
      { 'bytes-in': String(num(s['bytes-in']) + (use.bytesIn ?? 0)), 'bytes-out': String(num(s['bytes-out']) + (use.bytesOut ?? 0)) },
      dt,
    );
    const user = this.store.lookup('/ip/hotspot/user', 'name', s.user ?? '')?.[0];
    if (!user) return;
    const uptime = seconds(user.uptime) + dt;
    const bytesIn = num(user['bytes-in']) + (use.bytesIn ?? 0);
    const bytesOut = num(user['bytes-out']) + (use.bytesOut ?? 0);
    this.store.setCounters('/ip/hotspot/user', user['.id']!, { uptime: formatDuration(uptime), 'bytes-in': String(bytesIn), 'bytes-out': String(bytesOut) });
    const limitUptime = seconds(user['limit-uptime']);
    const limitBytes = num(user['limit-bytes-total']);
    if ((limitUptime > 0 && uptime >= limitUptime) || (limitBytes > 0 && bytesIn + bytesOut >= limitBytes)) {
      for (const row of this.store.lookup('/ip/hotspot/active', 'user', user.name ?? '') ?? []) this.store.remove('/ip/hotspot/active', [row['.id']!]);
    }
  }

  private passwordMatches(device: Device, password: string, sent: string): boolean {
    if (sent === password) return true;
    const c = this.challenges.get(device.mac.toUpperCase());
    if (!c || !/^[0-9a-f]{32}$/i.test(sent)) return false;
    const want = createHash('md5')
      .update(Buffer.concat([c.id, Buffer.from(password, 'latin1'), c.challenge]))
      .digest('hex');
    return want === sent.toLowerCase();
  }
}
