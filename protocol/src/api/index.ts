// REST API schemas shared by the controller (validation, OpenAPI) and the dashboard.
export * from './common.ts';
export * from './auth.ts';
export * from './network.ts';
export * from './plans.ts';
export * from './customer-list.ts';
export * from './customers.ts';
export * from './reports.ts';
export * from './provisioning.ts';
export * from './settings.ts';
export * from './sms.ts';
export * from './billing.ts';
export * from './mpesa.ts';
export * from './imports.ts';
export * from './vouchers.ts';
