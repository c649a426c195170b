// The dashboard's production entry: `node build/index.js` (copied here by svelte.config.js).
//
// adapter-node takes a request's origin from ORIGIN, or from PROTOCOL_HEADER + Host, and assumes
// https when neither is set. Served plainly (http://localhost:3000, http://127.0.0.1:3000 or a LAN
// address) that origin would be wrong, and SvelteKit's CSRF check would then refuse every form
// POST of our own pages. Unless the operator configured ORIGIN or PROTOCOL_HEADER (behind a proxy),
// this entry marks each request with the scheme it really arrived on, so the origin is the one the
// browser used, whichever host name that was — and cross-origin POSTs are still refused.
import http from 'node:http';
import process from 'node:process';

const SCHEME_HEADER = 'x-mtandao-scheme';
const markScheme = !process.env.ORIGIN && !process.env.PROTOCOL_HEADER;
if (markScheme) process.env.PROTOCOL_HEADER = SCHEME_HEADER;
process.env.PORT ??= process.env.MTANDAO_DASHBOARD_PORT ?? '3000';
// adapter-node refuses bodies over 512 KB; a customer import file may be up to the controller's 16 MB
process.env.BODY_SIZE_LIMIT ??= '17M';

// Imported once the environment above is set: handler.js reads it when it loads. (A variable
// specifier: the file exists only in build/.)
const handlerFile = './handler.js';
/** @type {{ handler: (req: http.IncomingMessage, res: http.ServerResponse, next: () => void) => void }} */
const { handler } = await import(handlerFile);

/**
 * Headers for every response, static files included. Pages get SvelteKit's own Content-Security-Policy
 * (with the nonce of their scripts) in place of this one; everything else, including an SVG or a JS
 * file opened directly, is not a document that may run or frame anything.
 */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
};

const server = http.createServer((req, res) => {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
  // Overwritten, never trusted from the client.
  if (markScheme) req.headers[SCHEME_HEADER] = 'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http';
  handler(req, res, () => {
    res.statusCode = 404;
    res.end('Not found');
  });
});

const host = process.env.HOST ?? '0.0.0.0';
const port = Number(process.env.PORT);
server.listen(port, host, () => {
  console.log(`Listening on http://${host.includes(':') ? `[${host}]` : host}:${port}`);
});

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 5000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
