import type { DarajaFake } from './daraja-fake.ts';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The fake's one page: pay a paybill account like a customer would from their phone. */
export function fakePage(fake: DarajaFake, message?: string): string {
  const codes = [...fake.registrations.keys()];
  const recent = fake.payments.slice(-10).reverse();
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Daraja fake: pay a paybill</title>
<style>body{font:15px system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem}label{display:block;margin:.6rem 0}input,select{font:inherit;padding:.3rem;width:16rem}button{font:inherit;padding:.4rem 1rem}.msg{background:#eef;padding:.6rem;border-radius:4px}td,th{padding:.2rem .6rem;text-align:left}</style></head><body>
<h1>M-Pesa (Daraja fake)</h1>
<p>Pays a paybill account the way a customer's phone does: Safaricom's validation, then its confirmation, to the URLs the controller registered.</p>
${message ? `<p class="msg" role="status">${esc(message)}</p>` : ''}
${codes.length === 0 ? '<p><strong>No shortcode has registered its URLs yet.</strong> Settings → M-Pesa → Register URLs in the dashboard.</p>' : ''}
<form method="post" action="/fake/c2b">
<label>Paybill <select name="shortCode">${codes.map((c) => `<option>${esc(c)}</option>`).join('')}</select></label>
<label>Account number <input name="account" required autofocus></label>
<label>Amount (KES) <input name="amount" required inputmode="decimal" value="1500"></label>
<label>Phone <input name="phone" value="254708374149"></label>
<button>Pay</button></form>
<h2>Recent payments</h2><table><tr><th>TransID</th><th>Account</th><th>Amount</th><th>Answer</th></tr>
${recent.map((p) => `<tr><td>${esc(p.transId)}</td><td>${esc(String(p.payload.BillRefNumber))}</td><td>${esc(String(p.payload.TransAmount))}</td><td>${esc(JSON.stringify(p.confirmation && 'status' in p.confirmation ? p.confirmation.body : (p.confirmation ?? p.validation)))}</td></tr>`).join('')}
</table></body></html>`;
}
