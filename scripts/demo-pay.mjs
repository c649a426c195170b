#!/usr/bin/env node
// `npm run demo:pay -- <account> <amount> [phone]`: a customer pays the demo paybill from their
// phone. The Daraja fake of `npm start` sends Safaricom's validation and confirmation to the controller.
const [account, amount, phone] = process.argv.slice(2);
if (!account || !amount) {
  process.stderr.write('usage: npm run demo:pay -- <account number> <amount> [phone 2547XXXXXXXX]\n');
  process.exit(2);
}
const port = Number(process.env.MTANDAO_DEMO_DARAJA_PORT ?? 8089);
const base = process.env.MTANDAO_DARAJA_URL ?? `http://127.0.0.1:${port}`;
try {
  const res = await fetch(`${base}/fake/c2b`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ account, amount, ...(phone ? { phone } : {}) }),
  });
  const out = await res.json();
  process.stdout.write(`${out.message}\n`);
  if (out.validation) process.stdout.write(`  validation   → ${JSON.stringify(out.validation.body ?? out.validation)}\n`);
  if (out.confirmation) process.stdout.write(`  confirmation → ${JSON.stringify(out.confirmation.body ?? out.confirmation)}\n`);
  process.exit(out.confirmation && out.confirmation.status === 200 ? 0 : 1);
} catch (err) {
  process.stderr.write(`the Daraja fake at ${base} is not answering (is npm start running?): ${err.message}\n`);
  process.exit(1);
}
