import { expect } from 'chai';
import { signIn } from './helpers/browser.ts';
import { run } from './helpers/run.ts';

/** A Content-Security-Policy header as directive → sources. */
function csp(header: string | null): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of (header ?? '').split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) out.set(name, sources);
  }
  return out;
}

function expectCommonHeaders(res: Response, what: string) {
  expect(res.headers.get('x-content-type-options'), what).to.equal('nosniff');
  expect(res.headers.get('referrer-policy'), what).to.equal('same-origin');
  expect(csp(res.headers.get('content-security-policy')).get('frame-ancestors'), what).to.deep.equal(["'none'"]);
}

describe('Security headers and the Content-Security-Policy', function () {
  this.timeout(60_000);

  it('sends a strict CSP on pages: scripts only from the origin or with a nonce, never inline', async () => {
    const res = await fetch(`${run.stack.url}/login`);
    expect(res.status).to.equal(200);
    expectCommonHeaders(res, '/login');
    const policy = csp(res.headers.get('content-security-policy'));
    const scripts = policy.get('script-src') ?? policy.get('default-src')!;
    expect(scripts).to.include("'self'");
    expect(scripts).to.not.include("'unsafe-inline'");
    expect(scripts).to.not.include("'unsafe-eval'");
    expect(
      scripts.some((s) => /^'nonce-|^'sha256-/.test(s)),
      scripts.join(' '),
    ).to.equal(true);
    expect(policy.get('object-src')).to.deep.equal(["'none'"]);
    // every inline script of the page carries the nonce the header names
    const html = await res.text();
    const nonce = scripts.find((s) => s.startsWith("'nonce-"))?.slice(7, -1);
    const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)([^>]*)>/g)].map((m) => m[1]!);
    expect(inline.length).to.be.above(0);
    for (const attrs of inline) expect(attrs).to.include(`nonce="${nonce}"`);
  });

  it('sends nosniff, frame-ancestors and Referrer-Policy on static files and on a redirect', async () => {
    const html = await (await fetch(`${run.stack.url}/login`)).text();
    // SvelteKit links its scripts relatively ("./_app/…" or "../_app/…")
    const found = /["']((?:\.{1,2})?\/?_app\/immutable\/[^"']+\.js)["']/.exec(html)?.[1];
    expect(found, 'a script of the page').to.be.a('string');
    const asset = new URL(found!, `${run.stack.url}/login`).pathname;
    for (const path of [asset, '/favicon.svg']) {
      const res = await fetch(`${run.stack.url}${path}`);
      expect(res.status, path).to.equal(200);
      expectCommonHeaders(res, path);
    }
    const redirect = await fetch(`${run.stack.url}/customers`, { redirect: 'manual' });
    expect(redirect.status).to.equal(303);
    expectCommonHeaders(redirect, 'redirect');
  });

  it('runs the pages under the policy without a single violation', async () => {
    const s = await signIn(run.browser, run.stack, 'admin');
    await s.context.addInitScript(() => {
      const w = window as unknown as { cspViolations: string[] };
      w.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => w.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const messages: string[] = [];
    s.page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) messages.push(m.text());
    });
    for (const path of ['/customers', '/sites', '/plans']) {
      await s.page.goto(path);
      await s.page.waitForLoadState('networkidle');
      // app.html's inline script ran, and SvelteKit's own (it hydrates the page) did too
      expect(await s.page.evaluate(() => document.documentElement.classList.contains('js')), path).to.equal(true);
      expect(await s.page.evaluate(() => Object.keys(window).some((k) => k.startsWith('__sveltekit'))), path).to.equal(true);
      expect(await s.page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations), path).to.deep.equal([]);
    }
    // an injected inline script is refused
    await s.page.evaluate(() => {
      const el = document.createElement('script');
      el.textContent = 'window.injected = true';
      document.body.append(el);
    });
    expect(await s.page.evaluate(() => (window as unknown as { injected?: boolean }).injected)).to.equal(undefined);
    expect(messages.some((m) => /inline script/i.test(m))).to.equal(true);
    await s.context.close();
  });
});
