/**
 * The hotspot's web server: the login page (`login.html` with MikroTik's `$(variable)`
 * substitutions, or a plain built-in one), `POST /login`, the status page ("You are online") and
 * logout. A real router knows the device from its traffic; here the device's MAC and IP travel as
 * `?mac=&ip=` on the URL (kept in `$(link-login-only)`), defaulting to one device.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { octalEscape, type Device, type Hotspot } from './hotspot.ts';

const DEFAULT_DEVICE: Device = { mac: '02:00:00:00:00:02', ip: '10.5.50.2' };
const MAX_BODY = 16 * 1024;

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const BUILTIN_LOGIN = `<!doctype html><html><head><meta name="viewport" content="width=device-width"><title>hotspot login</title></head><body>
<p>$(error)</p><form name="login" action="$(link-login-only)" method="post">
<input type="hidden" name="dst" value="$(link-orig)"><input name="username" value="$(username)"><input type="password" name="password"><button>OK</button></form></body></html>`;

const page = (title: string, body: string): string =>
  `<!doctype html><html><head><meta name="viewport" content="width=device-width"><title>${esc(title)}</title></head><body>${body}</body></html>`;

/** The emulated router's hotspot HTTP server. */
export class HotspotHttp {
  private server: Server | undefined;
  private base = '';
  /** Files as uploaded to the router's `hotspot/` directory; `login.html` replaces the built-in page. */
  readonly files = new Map<string, string>();

  constructor(
    private readonly hotspot: Hotspot,
    private readonly identity: () => string,
  ) {}

  async start(host: string, port: number): Promise<number> {
    const server = createServer((req, res) => void this.handle(req, res).catch(() => this.send(res, 500, 'text/plain', 'error')));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const p = (server.address() as AddressInfo).port;
    this.base = `http://${host}:${p}`;
    return p;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** The login page address for a device, as the router redirects an unauthenticated browser to it. */
  loginUrl(device: Device = DEFAULT_DEVICE, dst?: string): string {
    return `${this.base}/login?${new URLSearchParams({ mac: device.mac, ip: device.ip, ...(dst ? { dst } : {}) })}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.base);
    const device: Device = { mac: url.searchParams.get('mac') ?? DEFAULT_DEVICE.mac, ip: url.searchParams.get('ip') ?? DEFAULT_DEVICE.ip };
    const links = this.links(device);
    if (url.pathname === '/login' && req.method === 'POST') {
      const form = new URLSearchParams(await readBody(req));
      const username = form.get('username') ?? '';
      const dst = form.get('dst') ?? '';
      const result = this.hotspot.login(device, { username, password: form.get('password') ?? '' });
      if ('error' in result) return this.loginPage(res, device, { error: result.error, username, dst });
      return this.send(
        res,
        200,
        'text/html',
        page(
          'hotspot',
          `<h1>You are online</h1><p>Logged in as ${esc(username)}.</p>${dst ? `<p><a href="${esc(dst)}">Continue</a></p>` : ''}<p><a href="${esc(links.logout)}">log out</a></p>`,
        ),
      );
    }
    if (url.pathname === '/login' || url.pathname === '/') {
      const s = this.hotspot.sessionOf(device);
      if (s) return this.send(res, 200, 'text/html', page('hotspot', `<h1>You are online</h1><p>Logged in as ${esc(s.user ?? '')}.</p>`));
      return this.loginPage(res, device, { error: '', username: '', dst: url.searchParams.get('dst') ?? '' });
    }
    if (url.pathname === '/status') {
      const s = this.hotspot.sessionOf(device);
      if (!s) return this.redirect(res, links.login);
      return this.send(res, 200, 'text/html', page('hotspot status', `<h1>You are online</h1><p>${esc(s.user ?? '')}, uptime ${esc(s.uptime ?? '')}</p>`));
    }
    if (url.pathname === '/logout') {
      this.hotspot.logout(device);
      return this.send(res, 200, 'text/html', page('hotspot', '<h1>You have just logged out</h1>'));
    }
    return this.send(res, 404, 'text/plain', 'not found');
  }

  private links(device: Device) {
    const q = new URLSearchParams({ mac: device.mac, ip: device.ip }).toString();
    return { login: `${this.base}/login?${q}`, status: `${this.base}/status?${q}`, logout: `${this.base}/logout?${q}` };
  }

  /** The login page with MikroTik's variables filled in (a fresh CHAP challenge each time). */
  private loginPage(res: ServerResponse, device: Device, v: { error: string; username: string; dst: string }): void {
    const c = this.hotspot.challengeFor(device);
    const links = this.links(device);
    const vars: Record<string, string> = {
      mac: device.mac,
      ip: device.ip,
      username: v.username,
      error: v.error,
      identity: this.identity(),
      'server-name': 'hotspot1',
      'link-login': `${links.login}&dst=${encodeURIComponent(v.dst)}`,
      'link-login-only': links.login,
      'link-orig': v.dst,
      'link-orig-esc': encodeURIComponent(v.dst),
      'link-status': links.status,
      'link-logout': links.logout,
      'chap-id': octalEscape(c.id),
      'chap-challenge': octalEscape(c.challenge),
    };
    const html = (this.files.get('login.html') ?? BUILTIN_LOGIN).replace(/\$\(([a-z-]+)\)/g, (all, name: string) => vars[name] ?? '');
    this.send(res, 200, 'text/html', html);
  }

  private redirect(res: ServerResponse, to: string): void {
    res.writeHead(302, { location: to }).end();
  }

  private send(res: ServerResponse, status: number, type: string, body: string): void {
    res.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-cache' }).end(body);
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
