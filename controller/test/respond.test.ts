import { request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import { sendJson, sendJsonText } from '../src/http/respond.ts';

const VALUES: Record<string, unknown> = {
  small: { ok: true },
  long: { items: Array.from({ length: 80 }, (_, i) => ({ id: String(i), name: `Customer ${i}` })), total: 80 },
  unicode: { name: 'Wanjiru – “Mama Mboga” 🌽', note: '\u2028' },
  nothing: null,
  text: 'a string',
  number: 42,
};

interface Raw {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function fetchRaw(server: Server, method: string, path: string, headers: Record<string, string> = {}): Promise<Raw> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** What the client sees, without the headers that differ between any two answers. */
const seen = (r: Raw) => {
  const { date: _date, connection: _connection, 'keep-alive': _keepAlive, ...headers } = r.headers;
  return { status: r.status, headers, body: r.body };
};

describe('JSON answers', () => {
  let server: Server;
  before(async () => {
    const app = express();
    app.set('etag', false);
    app.all('/express/:name/:status', (req, res) => {
      res.status(Number(req.params.status)).json(VALUES[req.params.name]);
    });
    app.all('/fast/:name/:status', (req, res) => sendJson(res, Number(req.params.status), VALUES[req.params.name]));
    app.all('/express-text/:name/:status', (req, res) => {
      res.status(Number(req.params.status)).type('application/json').send(JSON.stringify(VALUES[req.params.name]));
    });
    app.all('/fast-text/:name/:status', (req, res) => sendJsonText(res, Number(req.params.status), JSON.stringify(VALUES[req.params.name])));
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
  });
  after(() => new Promise((r) => server.close(r)));

  const cases: [string, Record<string, string>][] = [
    ['POST', {}],
    ['GET', {}],
    ['HEAD', {}],
    ['GET', { 'if-none-match': '*' }],
    ['GET', { 'if-modified-since': new Date().toUTCString() }],
  ];
  for (const [method, headers] of cases)
    for (const status of [200, 201, 204, 422])
      it(`sends what res.json sends: ${method} ${JSON.stringify(headers)} ${status}`, async () => {
        for (const name of Object.keys(VALUES)) {
          const expected = seen(await fetchRaw(server, method, `/express/${name}/${status}`, headers));
          expect(seen(await fetchRaw(server, method, `/fast/${name}/${status}`, headers)), name).to.deep.equal(expected);
          const expectedText = seen(await fetchRaw(server, method, `/express-text/${name}/${status}`, headers));
          expect(seen(await fetchRaw(server, method, `/fast-text/${name}/${status}`, headers)), `${name} as text`).to.deep.equal(expectedText);
        }
      });

  it('leaves an app with indented JSON to res.json', async () => {
    const app = express();
    app.set('json spaces', 2);
    app.post('/express', (_req, res) => {
      res.status(201).json(VALUES.small);
    });
    app.post('/fast', (_req, res) => sendJson(res, 201, VALUES.small));
    const indented = app.listen(0, '127.0.0.1');
    await new Promise((r) => indented.once('listening', r));
    try {
      const expected = seen(await fetchRaw(indented, 'POST', '/express'));
      expect(expected.body).to.include('\n');
      expect(seen(await fetchRaw(indented, 'POST', '/fast'))).to.deep.equal(expected);
    } finally {
      await new Promise((r) => indented.close(r));
    }
  });

  it('answers a long body with its type and its exact length', async () => {
    const answer = await fetchRaw(server, 'POST', '/fast/long/201');
    expect(answer.headers['content-type']).to.equal('application/json; charset=utf-8');
    expect(Number(answer.headers['content-length'])).to.equal(Buffer.byteLength(answer.body));
    expect(JSON.parse(answer.body)).to.deep.equal(VALUES.long);
  });
});
