import { formatAmount } from '../domain/money.ts';
import type { PortalPlanRow } from '../repositories/portal.repository.ts';
import { LOGIN_VARS, type LoginForm, type LoginVars } from '../services/portal.service.ts';

/** The portal's HTML: tiny, mobile-first, no framework; every step works without JavaScript. */
const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const CSS = `body{font:16px/1.4 system-ui,sans-serif;margin:0;background:#f4f6f8;color:#1b1f23}main{max-width:28rem;margin:auto;padding:1rem}
h1{font-size:1.3rem;margin:.2rem 0 1rem}form{background:#fff;border-radius:.6rem;padding:1rem;margin:0 0 1rem;box-shadow:0 1px 2px #0002}
label{display:block;margin:.4rem 0}.plan{display:flex;gap:.6rem;align-items:center;border:1px solid #d0d7de;border-radius:.5rem;padding:.6rem;margin:.4rem 0}
.plan b{flex:1}input[type=tel],input[type=text],input[type=password]{width:100%;box-sizing:border-box;font-size:1.1rem;padding:.6rem;border:1px solid #8c959f;border-radius:.4rem}
button{width:100%;font-size:1.1rem;padding:.7rem;margin-top:.6rem;border:0;border-radius:.4rem;background:#1f7a3a;color:#fff}
.err{background:#ffebe9;border:1px solid #cf222e;padding:.6rem;border-radius:.4rem}.ok{background:#dafbe1;padding:.6rem;border-radius:.4rem}small{color:#57606a}`;

export function page(title: string, body: string, options: { refreshSeconds?: number; nonce?: string; script?: string } = {}): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">${options.refreshSeconds ? `<meta http-equiv="refresh" content="${options.refreshSeconds}">` : ''}<title>${esc(title)}</title><style>${CSS}</style></head><body><main>${body}</main>${options.script && options.nonce ? `<script nonce="${options.nonce}">${options.script}</script>` : ''}</body></html>`;
}

const hidden = (vars: LoginVars): string => LOGIN_VARS.map((k) => (vars[k] ? `<input type="hidden" name="${k}" value="${esc(vars[k])}">` : '')).join('');
const validity = (p: PortalPlanRow): string => `${p.validity_count} ${p.validity_count === 1 ? p.validity_unit.replace(/s$/, '') : p.validity_unit}`;

/** The plans, the M-Pesa form and the voucher form. */
export function portalPage(
  site: string,
  siteId: string,
  plans: PortalPlanRow[],
  vars: LoginVars,
  currency: string,
  message: { error?: string; code?: string; phone?: string } = {},
): string {
  const choices = plans
    .map(
      (p, i) =>
        `<label class="plan"><input type="radio" name="planId" value="${esc(String(p.id))}"${i === 0 ? ' checked' : ''}><b>${esc(p.name)}</b><span>${esc(currency)} ${esc(formatAmount(p.price_minor))}<br><small>${esc(validity(p))}${p.data_limit_bytes ? ` · ${Math.round(Number(p.data_limit_bytes) / 1024 ** 2)} MB` : ''}</small></span></label>`,
    )
    .join('');
  return page(
    `${site} — Internet`,
    `<h1>${esc(site)} Wi-Fi</h1>${message.error ? `<p class="err" role="alert">${esc(message.error)}</p>` : ''}
<form method="post" action="/portal/${esc(siteId)}/buy">${hidden(vars)}<h2>Buy with M-Pesa</h2>${choices || '<p>No packages on sale here right now.</p>'}
<label>M-Pesa phone number<input type="tel" name="phone" inputmode="tel" autocomplete="tel" placeholder="0712 345 678" value="${esc(message.phone ?? '')}" required></label><button>Pay with M-Pesa</button>
<small>You will get a prompt on your phone. Enter your M-Pesa PIN to pay.</small></form>
<form method="post" action="/portal/${esc(siteId)}/voucher">${hidden(vars)}<h2>Have a voucher?</h2>
<label>Voucher code<input type="text" name="code" autocapitalize="characters" autocomplete="off" value="${esc(message.code ?? '')}" required></label><button>Connect</button></form>
<form method="post" action="/portal/${esc(siteId)}/account">${hidden(vars)}<h2>Paid already?</h2><small>Log in with the username and password we sent you by SMS.</small>
<label>Username<input type="text" name="username" autocapitalize="none" autocomplete="username" required></label><label>Password<input type="password" name="password" autocomplete="current-password" required></label><button>Log in</button></form>`,
  );
}

/** Opened outside the hotspot: nothing to log in to. */
export function notThroughHotspot(site: string): string {
  return page(
    `${site} — Internet`,
    `<h1>${esc(site)} Wi-Fi</h1><p class="err">Connect to the ${esc(site)} Wi-Fi first, then open any website: this page opens by itself and lets you buy a package or use a voucher.</p>`,
  );
}

/** The router's own login form, submitted at once (or by one tap without JavaScript). */
export function loginPage(form: LoginForm, nonce: string, note = ''): string {
  return page(
    'Connecting…',
    `<h1>Connecting you…</h1>${note}<form name="login" method="post" action="${esc(form.action)}"><input type="hidden" name="username" value="${esc(form.username)}"><input type="hidden" name="password" value="${esc(form.password)}"><input type="hidden" name="dst" value="${esc(form.dst)}"><input type="hidden" name="popup" value="false"><button>Connect now</button></form>`,
    { nonce, script: 'document.forms.login.submit();' },
  );
}

export function waitingPage(): string {
  return page(
    'Waiting for M-Pesa',
    '<h1>Check your phone</h1><p>Enter your M-Pesa PIN in the prompt to pay. This page updates by itself.</p><p><small>No prompt? Wait a minute, or go back and try again: you are only charged once you enter your PIN.</small></p>',
    { refreshSeconds: 3 },
  );
}

export function connectingPage(): string {
  return page('Payment received', '<h1>Payment received</h1><p class="ok">Setting up your connection…</p>', { refreshSeconds: 2 });
}

export function failedPage(siteId: string, reason: string, vars: LoginVars): string {
  const q = new URLSearchParams(vars as Record<string, string>).toString();
  return page(
    'Payment not completed',
    `<h1>Payment not completed</h1><p class="err">${esc(reason)} Nothing was charged.</p><p><a href="/portal/${esc(siteId)}?${esc(q)}">Try again</a></p>`,
  );
}

/** Paid but the device is gone from the hotspot (no login form): the details to use on return. */
export function paidDetailsPage(username: string, password: string): string {
  return page(
    'Payment received',
    `<h1>Payment received</h1><p class="ok">Your package is ready. When you are back on the Wi-Fi, log in with username <b>${esc(username)}</b> and password <b>${esc(password)}</b> (we sent them by SMS too).</p>`,
  );
}

export function notFoundPage(): string {
  return page('Not found', '<h1>Not found</h1><p>This page does not exist.</p>');
}
