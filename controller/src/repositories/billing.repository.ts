import type { ValidityUnit } from '@mtandao/protocol';
import type { Transaction } from 'sequelize';
import type { Customer } from '../db/models/index.ts';
import type { Database } from '../db/database.ts';

/** A plan's terms as a payment reads them. */
export interface PaymentPlanRow {
  id: string;
  name: string;
  price_minor: string;
  validity_count: number;
  validity_unit: ValidityUnit;
}

/** Everything a payment decides on: the customer (locked), its plan and scheduled plan, the routers that carry it. */
export interface PaymentContext {
  id: string;
  connection_type: Customer['connectionType'];
  username: string;
  full_name: string;
  phone: string;
  account_number: string;
  ip_address: string | null;
  network_id: string | null;
  plan_id: string;
  next_plan_id: string | null;
  status: Customer['status'];
  expires_at: Date | null;
  activated_at: Date | null;
  balance_minor: string;
  plan: PaymentPlanRow;
  next_plan: PaymentPlanRow | null;
  /** the routers carrying the customer on its plan, and on its scheduled plan (routersFor's rule) */
  routers: string[];
  next_routers: string[] | null;
}

const PLAN_JSON = (alias: string) =>
  `json_build_object('id', ${alias}.id::text, 'name', ${alias}.name, 'price_minor', ${alias}.price_minor::text, 'validity_count', ${alias}.validity_count, 'validity_unit', ${alias}.validity_unit)`;

// a customer with an address lives on its network's router, one without on its plan's routers
const ROUTERS = (plan: string) =>
  `CASE WHEN c.network_id IS NOT NULL THEN ARRAY(SELECT po.router_id::text FROM networks n JOIN pools po ON po.id = n.pool_id WHERE n.id = c.network_id)
        ELSE ARRAY(SELECT router_id::text FROM plan_routers WHERE plan_id = ${plan} ORDER BY router_id) END`;

/** The reads of a payment, in one round trip. */
export class BillingRepository {
  constructor(private readonly db: Database) {}

  /** Locks the customer (payments of one customer queue here) and reads what the rules and the router jobs need. */
  async paymentContext(customerId: string, tx: Transaction): Promise<PaymentContext | undefined> {
    const rows = await this.db.prepared<PaymentContext>(
      'billing.payment-context',
      `SELECT c.id::text, c.connection_type, c.username, c.full_name, c.phone, c.account_number, c.ip_address, c.network_id::text,
              c.plan_id::text, c.next_plan_id::text, c.status, c.expires_at, c.activated_at, c.balance_minor::text,
              ${PLAN_JSON('p')} AS plan,
              CASE WHEN np.id IS NULL THEN NULL ELSE ${PLAN_JSON('np')} END AS next_plan,
              ${ROUTERS('c.plan_id')} AS routers,
              CASE WHEN np.id IS NULL THEN NULL ELSE ${ROUTERS('np.id')} END AS next_routers
         FROM customers c JOIN plans p ON p.id = c.plan_id LEFT JOIN plans np ON np.id = c.next_plan_id
        WHERE c.id = $1
        FOR UPDATE OF c`,
      [customerId],
      tx,
    );
    return rows[0];
  }
}
