import type { Services } from '../container.ts';
import type { RouteDef } from '../http/route.ts';
import { adminRoutes } from './admin.routes.ts';
import { authRoutes } from './auth.routes.ts';
import { billingRoutes } from './billing.routes.ts';
import { customerRoutes } from './customers.routes.ts';
import { networkRoutes } from './network.routes.ts';
import { planRoutes } from './plans.routes.ts';
import { reportRoutes } from './reports.routes.ts';
import { smsRoutes } from './sms.routes.ts';
import { mpesaRoutes } from './mpesa.routes.ts';
import { importRoutes } from './imports.routes.ts';
import { adoptionRoutes } from './adoption.routes.ts';
import { voucherRoutes } from './vouchers.routes.ts';

/** The whole API v1 route table: Express, OpenAPI and the role-matrix test all read it. */
export function apiRoutes(s: Services): RouteDef[] {
  return [
    ...authRoutes(s),
    ...networkRoutes(s),
    ...planRoutes(s),
    ...customerRoutes(s),
    ...billingRoutes(s),
    ...adminRoutes(s),
    ...reportRoutes(s),
    ...smsRoutes(s),
    ...mpesaRoutes(s),
    ...importRoutes(s),
    ...voucherRoutes(s),
    ...adoptionRoutes(s),
  ];
}
