import { timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Services } from '../container.ts';
import { AppError } from '../errors.ts';
import type { CallbackAnswer } from '../services/mpesa-c2b.service.ts';
import type { MpesaConfig } from '../services/mpesa-settings.service.ts';

const sameToken = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
const plainIp = (ip: string | undefined): string => (ip ?? '').replace(/^::ffff:/, '');

/**
 * Daraja's callbacks, public: no session and no Origin check, the unguessable token is the key.
 * The body is read as text so a malformed one can be stored with its reason, not bounced.
 */
export function mpesaCallbacks(s: Services): express.Router {
  const router = express.Router();
  const text = express.text({ type: () => true, limit: '64kb' });
  const handle = (run: (raw: string, cfg: MpesaConfig) => Promise<CallbackAnswer>) => async (req: Request, res: Response, next: NextFunction) => {
    let cfg: MpesaConfig;
    try {
      cfg = await s.mpesa.settings.current();
    } catch (err) {
      req.log.error({ err }, 'M-Pesa callback: settings unreadable');
      res.status(503).json({ ResultCode: 1, ResultDesc: 'Temporarily unavailable, retry' });
      return;
    }
    const token = String(req.params.token ?? '');
    if (!sameToken(token, cfg.token)) return next(new AppError(404, 'Not found'));
    if (cfg.allowedIps.length > 0 && !cfg.allowedIps.map(plainIp).includes(plainIp(req.ip))) {
      req.log.warn({ ip: req.ip }, 'M-Pesa callback from an address not on the allow-list');
      return next(new AppError(403, 'Source address not allowed'));
    }
    try {
      const answer = await run(typeof req.body === 'string' ? req.body : '', cfg);
      res.status(answer.status).json(answer.body);
    } catch (err) {
      // nothing could be stored (the database is down): Daraja retries on anything but 2xx
      req.log.error({ err }, 'M-Pesa callback not stored; Daraja will retry');
      res.status(503).json({ ResultCode: 1, ResultDesc: 'Temporarily unavailable, retry' });
    }
  };
  router.post(
    '/c2b/validation/:token',
    text,
    handle((raw, cfg) => s.mpesa.c2b.validation(raw, cfg)),
  );
  router.post(
    '/c2b/confirmation/:token',
    text,
    handle((raw, cfg) => s.mpesa.c2b.confirmation(raw, cfg)),
  );
  router.post(
    '/stk/callback/:token',
    text,
    handle((raw, cfg) => s.mpesa.stk.callback(raw, cfg)),
  );
  return router;
}
