import type { RequestHandler } from 'express';

/** Paths made of literal segments and whole-segment `:params`, the only kind this index reasons about. */
const SIMPLE_PATH = /^(?:\/(?:[\w.-]+|:[A-Za-z_]\w*))+$/;

/**
 * Routes without parameters looked up by method and path in one step, in front of Express's walk
 * of the route table (for `POST /customers` that walk tried 41 routes, one regular expression
 * each). A request is answered here only when its path is exactly a declared one and Express would
 * have picked the same route: a path that an earlier route of the same method also matches (a
 * `:param` in its place, any letter case, a path this index does not understand) is left out, and
 * anything not found (HEAD, OPTIONS, a trailing slash, other letter case) goes on to Express.
 */
export class StaticRoutes {
  private readonly byKey = new Map<string, RequestHandler>();
  private readonly declared: { method: string; path: string }[] = [];

  /** Adds a route in table order (the order Express tries them in). */
  add(method: string, path: string, handler: RequestHandler): void {
    const verb = method.toUpperCase();
    const key = `${verb} ${path}`;
    const isStatic = SIMPLE_PATH.test(path) && !path.includes('/:');
    if (isStatic && !this.declared.some((d) => d.method === verb && mayMatch(d.path, path))) this.byKey.set(key, handler);
    this.declared.push({ method: verb, path });
  }

  /** Whether a request with exactly this method and path is answered here. */
  has(method: string, path: string): boolean {
    return this.byKey.has(`${method} ${path}`);
  }

  /** The handler of a request with exactly this method and path, if answered here. */
  handler(method: string, path: string): RequestHandler | undefined {
    return this.byKey.get(`${method} ${path}`);
  }

  /** The middleware to place where the routes are mounted, before them. */
  middleware(): RequestHandler {
    return (req, res, next) => {
      const handler = this.byKey.get(`${req.method} ${req.path}`);
      if (!handler) return next();
      // what Express's route layer would have set for a path without parameters
      req.params = {};
      return handler(req, res, next);
    };
  }
}

/** Whether Express could match the route path `pattern` to the request path `path` (conservative). */
function mayMatch(pattern: string, path: string): boolean {
  if (!SIMPLE_PATH.test(pattern)) return true;
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return false;
  // Express matches paths without regard to letter case
  return want.every((segment, i) => segment.startsWith(':') || segment.toLowerCase() === got[i]!.toLowerCase());
}
