import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import type { StaticRoutes } from './static-routes.ts';

/** Where the API router is mounted, the chain its static routes run through, and what is mounted around it. */
export interface ApiShortcutOptions {
  /** the mount path of the API router, e.g. `/api/v1` */
  mount: string;
  statics: StaticRoutes;
  /** the API router's middleware before its routes, in order (the Origin check, the body parser) */
  chain: RequestHandler[];
  /** paths below the mount that something other than the chain handles first (a router mounted at `/api/v1/mpesa`, a parser mounted at `/imports/customers`) */
  passOver: string[];
  onError: ErrorRequestHandler;
}

/**
 * A request for a static API route taken from the app's first layers to the route's handler without
 * Express's router walk (the app's route and mount layers, entering the API router, its mount layers),
 * running the same chain of middleware in the same order and leaving the request as that walk would
 * (`baseUrl`, `url`, `params`). Only exact paths the static index holds are taken, and none under
 * `passOver` (in any letter case); everything else goes on through Express as before.
 */
export function apiShortcut(o: ApiShortcutOptions): RequestHandler {
  const prefix = `${o.mount}/`;
  const passOver = o.passOver.map((p) => p.toLowerCase());
  return (req: Request, res: Response, next: NextFunction) => {
    const url = req.url;
    if (!url.startsWith(prefix)) return next();
    const q = url.indexOf('?');
    const path = q === -1 ? url.slice(o.mount.length) : url.slice(o.mount.length, q);
    const handler = o.statics.handler(req.method, path);
    if (!handler) return next();
    const lower = path.toLowerCase();
    if (passOver.some((p) => lower.startsWith(p))) return next();
    // what the API router sets on the way in
    req.baseUrl = o.mount;
    req.url = url.slice(o.mount.length);
    const fail = (err: unknown): void => {
      o.onError(err, req, res, next);
    };
    // as Express's layers do: a throw or a rejected promise of a layer is passed on as its error
    const run = (layer: RequestHandler, after: NextFunction) => {
      try {
        const out = layer(req, res, after) as unknown;
        if (out instanceof Promise) out.catch(fail);
      } catch (err) {
        fail(err);
      }
    };
    let i = 0;
    const step = (err?: unknown): void => {
      if (err !== undefined && err !== null) return fail(err);
      const layer = o.chain[i++];
      if (layer) return run(layer, step);
      // what Express's route layer sets for a path without parameters
      req.params = {};
      run(handler, (e?: unknown) => {
        if (e !== undefined && e !== null) return fail(e);
        // a handler passing the request on: back to Express, as if never taken
        req.baseUrl = '';
        req.url = url;
        next();
      });
    };
    step();
  };
}
