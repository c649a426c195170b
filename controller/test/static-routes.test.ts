import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express, { type RequestHandler } from 'express';
import type { Services } from '../src/container.ts';
import { StaticRoutes } from '../src/http/static-routes.ts';
import { apiRoutes } from '../src/routes/index.ts';

const noop: RequestHandler = (_req, res) => {
  res.end();
};

/** The route table as declared (its handlers are never called here). */
function table(): { method: string; path: string }[] {
  const anything: object = new Proxy({}, { get: () => anything });
  return apiRoutes(anything as Services).map((r) => ({ method: r.method, path: r.path }));
}

function call(server: Server, method: string, path: string): Promise<{ status: number; route: string; via: string }> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, route: String(res.headers['x-route']), via: String(res.headers['x-via'] ?? 'express') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('static route index', () => {
  it('leaves out a path that an earlier route of the same method also matches', () => {
    const index = new StaticRoutes();
    index.add('get', '/customers/:id', noop);
    index.add('get', '/customers/new', noop);
    index.add('post', '/customers/new', noop);
    index.add('get', '/Plans', noop);
    index.add('get', '/plans', noop);
    index.add('get', '/files/*rest', noop);
    index.add('get', '/files/list', noop);
    index.add('get', '/sites', noop);
    index.add('post', '/sites', noop);
    expect(index.has('GET', '/customers/new')).to.equal(false);
    expect(index.has('POST', '/customers/new')).to.equal(true);
    expect(index.has('GET', '/Plans')).to.equal(true);
    expect(index.has('GET', '/plans')).to.equal(false);
    expect(index.has('GET', '/files/list')).to.equal(false);
    // a path the index does not understand may match anything after it
    expect(index.has('GET', '/sites')).to.equal(false);
    expect(index.has('POST', '/sites')).to.equal(true);
    expect(index.has('HEAD', '/sites')).to.equal(false);
  });

  describe('on the API route table', () => {
    const routes = table();
    const servers: Server[] = [];
    let plain: Server;
    let indexed: Server;
    let index: StaticRoutes;

    before(async () => {
      const serve = async (withIndex: boolean) => {
        const app = express();
        const router = express.Router();
        const statics = new StaticRoutes();
        if (withIndex) router.use(statics.middleware());
        routes.forEach(({ method, path }, i) => {
          const handler: RequestHandler = (req, res) => {
            res.setHeader('x-route', `${i} ${JSON.stringify(req.params)}`);
            res.end();
          };
          router[method as 'get'](path, handler);
          statics.add(method, path, (req, res, next) => {
            res.setHeader('x-via', 'index');
            return handler(req, res, next);
          });
        });
        router.use((_req, res) => {
          res.status(404).end();
        });
        app.use('/api/v1', router);
        const server = app.listen(0, '127.0.0.1');
        await new Promise((r) => server.once('listening', r));
        servers.push(server);
        return { server, statics };
      };
      plain = (await serve(false)).server;
      ({ server: indexed, statics: index } = await serve(true));
    });
    after(async () => {
      for (const s of servers) await new Promise((r) => s.close(r));
    });

    it('answers POST /customers without the walk', () => {
      expect(index.has('POST', '/customers')).to.equal(true);
    });

    it('picks the route Express picks for every path of the table, in any form', async () => {
      let viaIndex = 0;
      for (const { method, path } of routes) {
        const concrete = path.replace(/:\w+/g, '7');
        const forms = [concrete, `${concrete}/`, concrete.toUpperCase(), `${concrete}?page=2`, `${concrete}x`];
        const methods = method === 'get' ? ['GET', 'HEAD'] : [method.toUpperCase()];
        for (const m of methods)
          for (const form of forms) {
            const expected = await call(plain, m, `/api/v1${form}`);
            const got = await call(indexed, m, `/api/v1${form}`);
            expect({ status: got.status, route: got.route }, `${m} ${form}`).to.deep.equal({ status: expected.status, route: expected.route });
            if (got.via === 'index') viaIndex++;
          }
      }
      expect(viaIndex).to.be.greaterThan(40); // most static routes are answered by the index
    });
  });
});
