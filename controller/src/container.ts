import type { Config } from './config.ts';
import { afterCommit, Database } from './db/database.ts';
import type { ControllerKeys } from './keys.ts';
import type { Logger } from './logger.ts';
import { AuditRepository } from './repositories/audit.repository.ts';
import { CustomersRepository } from './repositories/customers.repository.ts';
import { RegistrationRepository } from './repositories/registration.repository.ts';
import { CustomerListRepository } from './repositories/customer-list.repository.ts';
import { JobsRepository } from './repositories/jobs.repository.ts';
import { LedgerRepository } from './repositories/ledger.repository.ts';
import { PlansRepository } from './repositories/plans.repository.ts';
import { PoolsRepository } from './repositories/pools.repository.ts';
import { ReportsRepository } from './repositories/reports.repository.ts';
import { RoutersRepository } from './repositories/routers.repository.ts';
import { SettingsRepository } from './repositories/settings.repository.ts';
import { SitesRepository } from './repositories/sites.repository.ts';
import { SmsRepository } from './repositories/sms.repository.ts';
import { ExpiryRepository } from './repositories/expiry.repository.ts';
import { UsersRepository } from './repositories/users.repository.ts';
import { IdempotencyRepository } from './repositories/idempotency.repository.ts';
import { AuditService } from './services/audit.service.ts';
import { AuthService } from './services/auth.service.ts';
import { CustomersService } from './services/customers.service.ts';
import { CustomerListService } from './services/customer-list.service.ts';
import { BillingService, type PaymentHook } from './services/billing.service.ts';
import { PaymentsService } from './services/payments.service.ts';
import { BillingRepository } from './repositories/billing.repository.ts';
import { CustomerJobs } from './services/customer-jobs.ts';
import { CustomerLifecycleService } from './services/customer-lifecycle.service.ts';
import { CustomerRegistrationService } from './services/customer-registration.service.ts';
import { IpamService } from './services/ipam.service.ts';
import { PlansService } from './services/plans.service.ts';
import { PoolsService } from './services/pools.service.ts';
import { ProvisioningService } from './services/provisioning.service.ts';
import { SettingsService } from './services/settings.service.ts';
import { SitesService } from './services/sites.service.ts';
import { SmsService } from './services/sms.service.ts';
import { IdempotencyService } from './services/idempotency.service.ts';
import { ReportsService } from './services/reports.service.ts';
import { ExpiryEngine } from './services/expiry.service.ts';
import { SmsSender } from './services/sms-sender.ts';
import { RouterOpsService } from './services/router-ops.service.ts';
import { DesiredStateBuilder } from './gateway/desired-state.ts';
import { ReconcileQueue } from './gateway/reconcile-queue.ts';
import type { Sequelize } from 'sequelize';
import { DarajaClient } from './mpesa/daraja-client.ts';
import { MpesaRepository } from './repositories/mpesa.repository.ts';
import { MpesaC2bService } from './services/mpesa-c2b.service.ts';
import { MpesaSettingsService } from './services/mpesa-settings.service.ts';
import { MpesaStkService } from './services/mpesa-stk.service.ts';
import type { PaymentReceiver } from './services/payment-receiver.ts';
import { ImportsRepository } from './repositories/imports.repository.ts';
import { CustomerImportService } from './services/customer-import.service.ts';
import { AdoptionRepository } from './repositories/adoption.repository.ts';
import { AdoptionService } from './services/adoption.service.ts';
import { VouchersRepository } from './repositories/vouchers.repository.ts';
import { VouchersService } from './services/vouchers.service.ts';
import { VoucherPrint } from './services/voucher-print.ts';
import { HotspotService } from './services/hotspot.service.ts';
import { PortalRepository } from './repositories/portal.repository.ts';
import { PortalService } from './services/portal.service.ts';

/** Every service, wired once; each gets only the repositories it needs. */
export interface Services {
  config: Config;
  logger: Logger;
  db: Database;
  keys: ControllerKeys;
  repos: {
    sites: SitesRepository;
    routers: RoutersRepository;
    jobs: JobsRepository;
    customers: CustomersRepository;
    plans: PlansRepository;
    ledger: LedgerRepository;
  };
  audit: AuditService;
  auth: AuthService;
  sites: SitesService;
  pools: PoolsService;
  ipam: IpamService;
  plans: PlansService;
  customers: CustomersService;
  customerList: CustomerListService;
  reports: ReportsService;
  registration: CustomerRegistrationService;
  lifecycle: CustomerLifecycleService;
  billing: BillingService;
  /** The Payments page and receipts. */
  payments: PaymentsService;
  provisioning: ProvisioningService;
  settings: SettingsService;
  sms: SmsService;
  smsSender: SmsSender;
  expiry: ExpiryEngine;
  routerOps: RouterOpsService;
  desiredState: DesiredStateBuilder;
  idempotency: IdempotencyService;
  reconciles: ReconcileQueue;
  imports: CustomerImportService;
  adoption: AdoptionService;
  mpesa: { settings: MpesaSettingsService; c2b: MpesaC2bService; stk: MpesaStkService; daraja: DarajaClient };
  vouchers: VouchersService;
  voucherPrint: VoucherPrint;
  hotspot: HotspotService;
  portal: PortalService;
}

export function createServices(
  config: Config,
  logger: Logger,
  sequelize: Sequelize,
  keys: ControllerKeys,
  options: { embedded?: boolean; databaseUrl?: string; onPaymentReceived?: PaymentHook } = {},
): Services {
  const db = new Database(sequelize, !options.embedded);
  const repos = {
    users: new UsersRepository(db),
    audit: new AuditRepository(db),
    sites: new SitesRepository(db),
    routers: new RoutersRepository(db),
    pools: new PoolsRepository(db),
    plans: new PlansRepository(db),
    customers: new CustomersRepository(db),
    jobs: new JobsRepository(db),
    ledger: new LedgerRepository(db),
    settings: new SettingsRepository(),
    sms: new SmsRepository(db),
    expiry: new ExpiryRepository(db),
  };
  const audit = new AuditService(repos.audit);
  const provisioning = new ProvisioningService(repos.jobs, config.jobTtlMs);
  const reconciles = new ReconcileQueue(db, repos.jobs, provisioning, (routerId, tx) => desiredState.chunksFor(routerId, tx));
  const plans = new PlansService(db, repos.plans, repos.pools, repos.routers, audit, provisioning, reconciles);
  const ipam = new IpamService(repos.pools);
  const pools = new PoolsService(
    db,
    repos.pools,
    repos.routers,
    audit,
    (planIds, reason, meta, tx) => plans.fanout(planIds, reason, meta, tx),
    () => ipam.forget(),
  );
  const settings = new SettingsService(db, repos.settings, audit, keys.secretBox, config);
  const customerJobs = new CustomerJobs(repos.customers, provisioning);
  const customers = new CustomersService(db, repos.customers, repos.plans, repos.pools, audit, provisioning, customerJobs, keys.secretBox);
  const customerView = (id: string) => customers.get(id);
  const registration = new CustomerRegistrationService(repos.customers, new RegistrationRepository(db), provisioning, keys.secretBox);
  const billing = new BillingService(
    {
      db,
      customers: repos.customers,
      plans: repos.plans,
      ledger: repos.ledger,
      billing: new BillingRepository(db),
      settings,
      audit,
      jobs: customerJobs,
      currency: config.currency,
      customerView,
    },
    options.onPaymentReceived ??
      (async (customerId, entryId, tx, paid) => {
        await sms.paymentReceived(customerId, entryId, tx, paid?.amountMinor, paid?.customer);
        // a hotspot buyer (the portal) also gets the login details, once the payment is committed
        if (!paid || paid.customer.connection_type === 'hotspot')
          afterCommit(() => void sms.hotspotLogin(customerId).catch((err: unknown) => logger.warn({ err, customerId }, 'hotspot login SMS failed')), tx);
      }),
  );
  const lifecycle = new CustomerLifecycleService({
    db,
    customers: repos.customers,
    plans: repos.plans,
    pools: repos.pools,
    ledger: repos.ledger,
    settings,
    audit,
    provisioning,
    jobs: customerJobs,
    customerView,
  });
  const customerListRepo = new CustomerListRepository(db);
  const sms: SmsService = new SmsService(db, repos.sms, repos.customers, customerListRepo, repos.plans, customers, settings, audit, config);
  registration.onRegistered = (id) => sms.welcome(id);
  // M-Pesa pays through the ledger's seam: BillingService.receivePayment (money contract)
  const receiver: PaymentReceiver = billing;
  const daraja = new DarajaClient();
  const mpesaRepo = new MpesaRepository(db);
  const mpesaSettings = new MpesaSettingsService(db, repos.settings, audit, keys.secretBox, daraja, config);
  const mpesaC2b = new MpesaC2bService(db, mpesaRepo, receiver, audit, logger);
  const mpesa = {
    settings: mpesaSettings,
    c2b: mpesaC2b,
    stk: new MpesaStkService(db, mpesaRepo, repos.customers, repos.plans, mpesaSettings, mpesaC2b, daraja, audit, logger, {
      queryAfterMs: config.stkQueryAfterMs,
    }),
    daraja,
  };
  const importsRepo = new ImportsRepository(db);
  const desiredState = new DesiredStateBuilder(repos.customers, repos.plans, (c) => customers.passwordOf(c));
  const vouchersRepo = new VouchersRepository(db);
  const vouchers = new VouchersService(db, vouchersRepo, repos.plans, provisioning, audit, () => new URL(config.publicUrl).hostname, repos.settings);
  desiredState.vouchers = (job, router, plan) => vouchers.build(job, router, plan);
  const portalOfPlan = async (planId: string): Promise<string | null> => {
    const [routerId] = await vouchersRepo.routersOfPlan(planId);
    const router = routerId ? await repos.routers.get(routerId) : undefined;
    return router ? `${config.publicUrl.replace(/\/+$/, '')}/portal/${router.site_id}` : null;
  };
  const voucherPrint = new VoucherPrint(vouchersRepo, async () => (await settings.sms()).companyName, portalOfPlan, config.currency);
  const hotspot = new HotspotService(
    db,
    vouchersRepo,
    repos.routers,
    provisioning,
    audit,
    logger,
    () => config.publicUrl,
    (routerId, live) => vouchers.resend(routerId, live),
  );
  const portal = new PortalService(new PortalRepository(db), repos.customers, customers, registration, mpesa.stk);
  return {
    portal,
    vouchers,
    voucherPrint,
    hotspot,
    config,
    logger,
    db,
    keys,
    repos: { sites: repos.sites, routers: repos.routers, jobs: repos.jobs, customers: repos.customers, plans: repos.plans, ledger: repos.ledger },
    audit,
    auth: new AuthService(db, repos.users, audit, config),
    sites: new SitesService(db, repos.sites, repos.routers, audit, config, keys.signingPublicKeyPem),
    pools,
    ipam,
    plans,
    customers,
    customerList: new CustomerListService(customerListRepo, customers, provisioning, config.timezone, audit),
    reports: new ReportsService(new ReportsRepository(db), pools, config),
    registration,
    lifecycle,
    billing,
    payments: new PaymentsService(repos.ledger, repos.customers, settings),
    provisioning,
    settings,
    sms,
    smsSender: new SmsSender(repos.sms, sms, logger, config.smsPollMs),
    expiry: new ExpiryEngine(db, repos.expiry, settings, sms, provisioning, logger, {
      intervalMs: config.expirySweepMs,
      databaseUrl: options.databaseUrl,
      single: Boolean(options.embedded),
    }),
    routerOps: new RouterOpsService(db, repos.routers, provisioning, audit, (routerId) => desiredState.chunksFor(routerId)),
    desiredState,
    idempotency: new IdempotencyService(db, new IdempotencyRepository(db)),
    reconciles,
    imports: new CustomerImportService(importsRepo, provisioning, audit, keys.secretBox, logger, config.timezone),
    adoption: new AdoptionService({
      db,
      repo: new AdoptionRepository(db),
      imports: importsRepo,
      routers: repos.routers,
      provisioning,
      plans,
      audit,
      secretBox: keys.secretBox,
      logger,
    }),
    mpesa,
  };
}
