import type { Sequelize } from 'sequelize';
import { initCustomerModels } from './customers.ts';
import { initJobModels } from './jobs.ts';
import { initNetworkModels } from './network.ts';
import { initPlanModels } from './plans.ts';
import { initSmsModels } from './sms.ts';
import { initStaffModels } from './staff.ts';

// Models mirror the migrations; they never create or alter tables. Only repositories import them.
// One file per area (staff, network, plans, customers, jobs, sms); this one binds them all and is
// the import path for repositories and services.

export { ApiToken, AuditEntry, Session, Setting, User } from './staff.ts';
export { Agent, EnrollmentToken, Network, Pool, PoolReserved, RouterModel, Site } from './network.ts';
export { Plan, PlanPool, PlanRouter } from './plans.ts';
export { Customer } from './customers.ts';
export { JobEvent, ProvisioningJob } from './jobs.ts';
export { SmsMessage } from './sms.ts';

/** Binds every model to a Sequelize instance. */
export function initModels(sequelize: Sequelize): void {
  initStaffModels(sequelize);
  initNetworkModels(sequelize);
  initPlanModels(sequelize);
  initCustomerModels(sequelize);
  initJobModels(sequelize);
  initSmsModels(sequelize);
}
