import { randomBytes } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import type { Services } from '../container.ts';
import { AppError } from '../errors.ts';
import { SlidingWindowLimit } from '../lib/limits.ts';
import { pickVars, type LoginVars } from '../services/portal.service.ts';
import { connectingPage, failedPage, loginPage, notFoundPage, notThroughHotspot, paidDetailsPage, portalPage, waitingPage } from './portal-pages.ts';

/** Router login errors (the `$(error)` login.html sends back) in words a customer understands. */
const ROUTER_ERRORS: [RegExp, string][] = [
  [/no more sessions/i, 'This code is already in use on another device. Log out there first, or buy your own package.'],
  [/uptime limit|traffic limit/i, 'That voucher has been used up.'],
  [/invalid username or password/i, 'That code is not valid here. Check it and try again.'],
];

const MAC = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/;

/**
 * `/portal/:siteId`: public pages for devices behind the hotspot (no staff session, no framework
 * JavaScript), rate-limited per address, with a strict CSP: one inline script by nonce (the
 * auto-submit of the router's login form), forms may post to the router.
 */
export function portalRouter(s: Services): express.Router {
  const router = express.Router();
  const perIp = new SlidingWindowLimit(60, 60_000);
  router.use(express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 30 }));
  router.use((req, res, next) => {
    const wait = perIp.take(req.ip ?? '?');
    if (wait !== undefined) {
      res.setHeader('retry-after', String(wait));
      res.status(429).type('html').send('<!doctype html><p>Too many requests. Wait a moment and try again.</p>');
      return;
    }
    const nonce = randomBytes(12).toString('base64');
    res.locals.nonce = nonce;
    res.setHeader(
      'content-security-policy',
      `default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}'; img-src data:; form-action 'self' http: https:; base-uri 'none'; frame-ancestors 'none'`,
    );
    res.setHeader('referrer-policy', 'no-referrer');
    next();
  });

  const html = (res: Response, status: number, body: string) => res.status(status).type('html').send(body);
  const varsOf = (req: Request): LoginVars =>
    pickVars({ ...(req.query as Record<string, unknown>), ...((req.body as Record<string, unknown> | undefined) ?? {}) });
  const hasHotspot = (v: LoginVars) => !!v.mac && MAC.test(v.mac) && !!v['link-login-only'] && /^https?:\/\//.test(v['link-login-only']);

  const show = async (req: Request, res: Response, status: number, message: { error?: string; code?: string; phone?: string } = {}) => {
    const siteId = String(req.params.siteId);
    const site = await s.portal.siteName(siteId);
    if (!site) return html(res, 404, notFoundPage());
    const vars = varsOf(req);
    if (!hasHotspot(vars)) return html(res, 400, notThroughHotspot(site));
    const plans = await s.portal.plans(siteId);
    return html(res, status, portalPage(site, siteId, plans, vars, s.config.currency, message));
  };

  router.get('/:siteId', async (req, res, next) => {
    try {
      const routerError = typeof req.query.error === 'string' ? req.query.error : '';
      const known = ROUTER_ERRORS.find(([re]) => re.test(routerError))?.[1];
      await show(req, res, 200, { ...(known ? { error: known } : {}), ...(typeof req.query.code === 'string' ? { code: req.query.code.slice(0, 30) } : {}) });
    } catch (err) {
      next(err);
    }
  });

  router.post('/:siteId/voucher', async (req, res, next) => {
    try {
      const siteId = String(req.params.siteId);
      if (!(await s.portal.siteName(siteId))) return html(res, 404, notFoundPage());
      const vars = varsOf(req);
      if (!hasHotspot(vars)) return show(req, res, 400);
      const code = typeof req.body?.code === 'string' ? req.body.code.slice(0, 40) : '';
      const r = await s.portal.voucher(siteId, code, { ip: req.ip ?? '?', mac: vars.mac! }, vars);
      if ('error' in r) return show(req, res, r.status, { error: r.error, code });
      return html(res, 200, loginPage(r.login, String(res.locals.nonce)));
    } catch (err) {
      next(err);
    }
  });

  router.post('/:siteId/account', async (req, res, next) => {
    try {
      const siteId = String(req.params.siteId);
      if (!(await s.portal.siteName(siteId))) return html(res, 404, notFoundPage());
      const vars = varsOf(req);
      if (!hasHotspot(vars)) return show(req, res, 400);
      const field = (k: string) => (typeof req.body?.[k] === 'string' ? (req.body[k] as string).slice(0, 64) : '');
      const r = await s.portal.account(
        siteId,
        { username: field('username').trim(), password: field('password') },
        { ip: req.ip ?? '?', mac: vars.mac! },
        vars,
      );
      if ('error' in r) return show(req, res, r.status, { error: r.error });
      return html(res, 200, loginPage(r.login, String(res.locals.nonce)));
    } catch (err) {
      next(err);
    }
  });

  router.post('/:siteId/buy', async (req, res, next) => {
    const phone = typeof req.body?.phone === 'string' ? req.body.phone.slice(0, 30) : '';
    try {
      const siteId = String(req.params.siteId);
      if (!(await s.portal.siteName(siteId))) return html(res, 404, notFoundPage());
      const vars = varsOf(req);
      if (!hasHotspot(vars)) return show(req, res, 400);
      const token = await s.portal.buy(
        siteId,
        { planId: String(req.body?.planId ?? ''), phone, vars },
        String(res.locals.requestId ?? req.get('x-request-id') ?? ''),
        req.ip,
      );
      res.redirect(303, `/portal/${siteId}/purchase/${token}`);
    } catch (err) {
      if (err instanceof AppError && err.status < 500) return show(req, res, err.status, { error: err.message, phone });
      if (err instanceof AppError)
        return show(req, res, 502, { error: `M-Pesa could not be reached (${err.message}). Nothing was charged; try again in a minute.`, phone });
      next(err);
    }
  });

  router.get('/:siteId/purchase/:token', async (req, res, next) => {
    try {
      const siteId = String(req.params.siteId);
      const state = await s.portal.purchase(siteId, String(req.params.token));
      if (!state) return html(res, 404, notFoundPage());
      if (state.state === 'waiting') return html(res, 200, waitingPage());
      if (state.state === 'connecting') return html(res, 200, connectingPage());
      if (state.state === 'failed') return html(res, 200, failedPage(siteId, state.reason, {}));
      if (!state.login || !/^https?:\/\//.test(state.login.action)) return html(res, 200, paidDetailsPage(state.username, state.password));
      return html(res, 200, loginPage(state.login, String(res.locals.nonce), '<p class="ok">Payment received.</p>'));
    } catch (err) {
      next(err);
    }
  });
  return router;
}
