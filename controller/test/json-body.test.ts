import { request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import express, { type RequestHandler } from 'express';
import { JSON_BODY_LIMIT, jsonBody } from '../src/http/json-body.ts';
import { checkJsonDepth, errorHandler } from '../src/http/middleware.ts';
import { listen } from './helpers/listen.ts';

interface Sent {
  method?: string;
  headers: Record<string, string>;
  /** written as it is; several parts are sent as separate writes */
  body?: Buffer | string | (Buffer | string)[];
}

interface Raw {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An app answering what its JSON parser made of the body, errors through the API's error handler. */
function appWith(parser: RequestHandler): express.Express {
  const app = express();
  app.use((req, _res, next) => {
    req.requestId = 'test-request';
    next();
  });
  app.use(parser);
  app.all('/echo', (req, res) => {
    res.json({ body: req.body === undefined ? '(undefined)' : (req.body as unknown) });
  });
  app.use(errorHandler());
  return app;
}

function send(server: Server, s: Sent): Promise<Raw> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: s.method ?? 'POST', path: '/echo', headers: s.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    const parts = s.body === undefined ? [] : Array.isArray(s.body) ? s.body : [s.body];
    for (const p of parts) req.write(p);
    req.end();
  });
}

const JSON_TYPE = 'application/json';
const json = (body: Buffer | string, type = JSON_TYPE, extra: Record<string, string> = {}): Sent => ({
  headers: { 'content-type': type, 'content-length': String(Buffer.byteLength(body)), ...extra },
  body,
});
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const atLimit = () => {
  const head = '{"a":"';
  return `${head}${'x'.repeat(JSON_BODY_LIMIT - head.length - 2)}"}`;
};

/** Inputs of every shape; each is answered by express.json and by the lean reader, and compared. */
const CASES: Record<string, Sent> = {
  object: json('{"fullName":"Wanjiru","n":1}'),
  'object, charset utf-8': json('{"a":1}', 'application/json; charset=utf-8'),
  'object, charset without a space': json('{"a":1}', 'application/json;charset=utf-8'),
  'charset UTF-8 in capitals': json('{"a":1}', 'application/json; charset=UTF-8'),
  'type in capitals': json('{"a":1}', 'Application/JSON'),
  'a +json type': json('{"a":1}', 'application/vnd.api+json'),
  array: json('[1,2,3]'),
  'a bare string': json('"text"'),
  'a bare number': json('42'),
  null: json('null'),
  'unicode text': json('{"name":"Wanjikũ – “Mama” 🌽","sep":"\u2028"}'),
  'a NUL escape': json('{"name":"a\\u0000b"}'),
  'invalid utf-8 bytes': json(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xc3, 0x28, 0xe2, 0x82, 0x22, 0x7d])),
  'a byte order mark': json(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')])),
  empty: json(''),
  'only whitespace': json('  \n '),
  malformed: json('{"fullName": '),
  'trailing garbage': json('{"a":1} x'),
  'single quotes': json("{'a':1}"),
  'nested 32 deep': json(nested(32)),
  'nested 33 deep': json(nested(33)),
  'deep brackets inside a string': json(`{"a":"${nested(100)}"}`),
  'exactly at the limit': json(atLimit()),
  'one byte over the limit': json(`${atLimit()} `),
  'much too large': json(`{"a":"${'x'.repeat(400_000)}"}`),
  'text/plain': json('{"a":1}', 'text/plain'),
  'a form': json('a=1', 'application/x-www-form-urlencoded'),
  'no content type': { headers: { 'content-length': '7' }, body: '{"a":1}' },
  'charset latin1': json('{"a":1}', 'application/json; charset=latin1'),
  'charset utf-16': json(Buffer.from('{"a":"ü"}', 'utf16le'), 'application/json; charset=utf-16le'),
  'an unknown utf- charset': json('{"a":1}', 'application/json; charset=utf-9'),
  gzip: json(gzipSync('{"a":"gzipped"}'), JSON_TYPE, { 'content-encoding': 'gzip' }),
  'gzip, malformed inside': json(gzipSync('{"a":'), JSON_TYPE, { 'content-encoding': 'gzip' }),
  'gzip, too deep inside': json(gzipSync(nested(40)), JSON_TYPE, { 'content-encoding': 'gzip' }),
  'gzip, not gzip': json('{"a":1}', JSON_TYPE, { 'content-encoding': 'gzip' }),
  'identity encoding': json('{"a":1}', JSON_TYPE, { 'content-encoding': 'identity' }),
  'an unknown encoding': json('{"a":1}', JSON_TYPE, { 'content-encoding': 'compress' }),
  chunked: { headers: { 'content-type': JSON_TYPE, 'transfer-encoding': 'chunked' }, body: ['{"a":', '"chunked"}'] },
  'chunked, malformed': { headers: { 'content-type': JSON_TYPE, 'transfer-encoding': 'chunked' }, body: ['{"a":', '"chun'] },
  'chunked, too large': { headers: { 'content-type': JSON_TYPE, 'transfer-encoding': 'chunked' }, body: ['{"a":"', 'x'.repeat(300_000), '"}'] },
  'sent in several writes': { headers: { 'content-type': JSON_TYPE, 'content-length': '16' }, body: ['{"a":', '"in ', 'parts"}'] },
  'GET without a body': { method: 'GET', headers: { 'content-type': JSON_TYPE } },
  'GET with a body': { method: 'GET', ...json('{"a":1}') },
  'DELETE, content-length 0': { method: 'DELETE', headers: { 'content-type': JSON_TYPE, 'content-length': '0' } },
};

describe('JSON body reader', () => {
  let lean: Server;
  let reference: Server;
  before(async () => {
    lean = await listen(appWith(jsonBody()));
    reference = await listen(appWith(express.json({ limit: JSON_BODY_LIMIT, strict: false, verify: (_req, _res, buf) => checkJsonDepth(buf) })));
  });
  after(() => {
    lean.close();
    reference.close();
  });

  for (const [name, sent] of Object.entries(CASES)) {
    it(`answers as express.json does: ${name}`, async () => {
      const [got, want] = await Promise.all([send(lean, sent), send(reference, sent)]);
      expect({ status: got.status, type: got.headers['content-type'], body: got.body }).to.deep.equal({
        status: want.status,
        type: want.headers['content-type'],
        body: want.body,
      });
    });
  }

  it('parses the ordinary body itself and refuses the bad ones with the API error answers', async () => {
    const answer = async (s: Sent) => {
      const r = await send(lean, s);
      return { status: r.status, body: JSON.parse(r.body) as unknown };
    };
    expect(await answer(CASES.object!)).to.deep.equal({ status: 200, body: { body: { fullName: 'Wanjiru', n: 1 } } });
    expect(await answer(CASES.empty!)).to.deep.equal({ status: 200, body: { body: {} } });
    expect(await answer(CASES['a byte order mark']!)).to.deep.equal({ status: 200, body: { body: { a: 1 } } });
    const error = (message: string, extra: object = {}) => ({ error: { message, code: 'bad_request', ...extra }, requestId: 'test-request' });
    expect(await answer(CASES.malformed!)).to.deep.equal({ status: 400, body: error('Request body is not valid JSON') });
    expect(await answer(CASES['nested 33 deep']!)).to.deep.equal({
      status: 400,
      body: error('Request body is nested too deeply (at most 32 levels)', { field: 'body' }),
    });
    expect(await answer(CASES['one byte over the limit']!)).to.deep.equal({ status: 400, body: error('Request body is too large') });
    expect(await answer(CASES['charset latin1']!)).to.deep.equal({ status: 400, body: error('Request body is not valid JSON') });
    expect(await answer(CASES.gzip!)).to.deep.equal({ status: 200, body: { body: { a: 'gzipped' } } });
    // the gunzip stream's own error: a 400, not an internal error
    expect(await answer(CASES['gzip, not gzip']!)).to.deep.equal({ status: 400, body: error('Request body is not valid JSON') });
  });
});
