import { createServer, type Server } from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Sequelize } from 'sequelize';
import type { Config } from './config.ts';
import { createServices, type Services } from './container.ts';
import { isPglite, startEmbeddedDatabase, type EmbeddedDatabase } from './db/embedded.ts';
import { migrate } from './db/migrate.ts';
import { initModels } from './db/models/index.ts';
import { createSequelize, ownBackendPids } from './db/sequelize.ts';
import { createApp } from './http/app.ts';
import { loadKeys } from './keys.ts';
import type { Logger } from './logger.ts';
import { AgentHub } from './gateway/hub.ts';
import { PASSWORD_HASH_COST } from './lib/secrets.ts';
import { seedDemo } from './demo.ts';
import { RouterWatch } from './gateway/router-watch.ts';
import { Dispatcher } from './gateway/dispatcher.ts';
import { OutboxRepository } from './repositories/outbox.repository.ts';

/** A running controller. */
export interface Controller {
  url: string;
  port: number;
  services: Services;
  server: Server;
  hub: AgentHub;
  dispatcher: Dispatcher;
  /** The password of a freshly created bootstrap admin, when it was generated. */
  bootstrapPassword: string | undefined;
  stop(): Promise<void>;
}

/**
 * Starts the controller: database (embedded PGlite when DATABASE_URL is unset), migrations, keys,
 * bootstrap admin, HTTP API.
 */
export async function startController(config: Config, logger: Logger): Promise<Controller> {
  let embedded: EmbeddedDatabase | undefined;
  let url = config.databaseUrl;
  if (!url) {
    embedded = await startEmbeddedDatabase({ dir: path.join(config.dataDir, 'pgdata') });
    url = embedded.url;
    logger.info({ dir: path.join(config.dataDir, 'pgdata') }, 'using the embedded PostgreSQL (PGlite); set DATABASE_URL for a real server');
  }
  let sequelize: Sequelize | undefined;
  try {
    const single = embedded !== undefined || (await isPglite(url));
    sequelize = createSequelize(url, logger, single ? { poolMax: 1 } : {});
    initModels(sequelize);
    await migrate(sequelize, url, logger, { lock: !single });
    const keys = loadKeys(config, logger);
    const services = createServices(config, logger, sequelize, keys, { embedded: single, databaseUrl: url });
    const boot = await services.auth.bootstrapAdmin(config.adminPassword);
    if (boot.created)
      logger.info(
        { username: 'admin' },
        boot.password ? 'created the bootstrap admin with a generated password (printed once on the console)' : 'created the bootstrap admin',
      );

    // ready once the dispatcher runs and the demo (if any) is seeded
    let ready = false;
    const { app } = createApp(services, {
      ready: async () => {
        if (!ready) throw new Error('still starting');
      },
    });
    const server = createServer(app);
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    // an ephemeral port (tests, benchmarks) is only known now: agents and links must use it
    if (config.port === 0 && config.publicUrl.endsWith(':0')) config.publicUrl = `http://127.0.0.1:${port}`;
    const hub = new AgentHub(services.repos.sites, logger, config.heartbeatMs, config.instanceId);
    const dispatcher = new Dispatcher(
      {
        hub,
        outbox: new OutboxRepository(services.db),
        jobs: services.repos.jobs,
        sites: services.repos.sites,
        routers: services.repos.routers,
        builder: services.desiredState,
        provisioning: services.provisioning,
        signingKey: keys.signingKey,
        logger,
      },
      {
        pollMs: config.dispatchPollMs,
        databaseUrl: url,
        listen: !single,
        ownBackends: ownBackendPids(sequelize),
        watch: new RouterWatch(services.reconciles, services.repos.routers, hub, logger, {
          reconcileOnConnect: config.reconcileOnConnect,
          driftCheckMs: config.driftCheckMs,
          throttleMs: config.reconcileThrottleMs,
        }),
      },
    );
    dispatcher.onHotspot = (siteId, m) => services.hotspot.report(siteId, m.report);
    services.sites.onAgentsRetired((ids) => hub.drop(ids, 'agent retired'));
    hub.attach(server, {
      connected: (s) => void dispatcher.onConnected(s),
      message: (s, m) => dispatcher.onMessage(s, m),
      disconnected: (s) => dispatcher.onDisconnected(s),
    });
    await dispatcher.start();
    if (config.passwordHashCost < PASSWORD_HASH_COST)
      logger.warn(
        { cost: config.passwordHashCost },
        `MTANDAO_PASSWORD_HASH_COST is below ${PASSWORD_HASH_COST}: staff passwords are hashed for a test run, not for production`,
      );
    services.expiry.start();
    services.imports.start();
    services.smsSender.start();
    if (config.demo) {
      const demo = await seedDemo(services);
      if (demo.seeded) logger.info('seeded the demo site, router, pools and plans');
      if (demo.tokenFile) logger.info({ file: demo.tokenFile }, 'wrote a one-time enrolment token for the demo agent');
    }
    // today's customer counts for the overview's chart: now, then every 10 minutes
    const snapshot = () => void services.reports.snapshot().catch((err: unknown) => logger.warn({ err }, 'customer count snapshot failed'));
    snapshot();
    const snapshots = setInterval(snapshot, 10 * 60_000);
    snapshots.unref();
    // stored M-Pesa confirmations whose payment was deferred, and STK pushes nobody called back
    let sweeping = false;
    const mpesaSweep = setInterval(() => {
      if (sweeping) return;
      sweeping = true;
      Promise.all([services.mpesa.c2b.sweep(), services.mpesa.stk.sweep(), services.vouchers.sweep()])
        .catch((err: unknown) => logger.warn({ err }, 'M-Pesa sweep failed'))
        .finally(() => (sweeping = false));
    }, config.mpesaSweepMs);
    mpesaSweep.unref();
    ready = true;
    const seq = sequelize;
    return {
      url: `http://127.0.0.1:${port}`,
      port,
      services,
      server,
      hub,
      dispatcher,
      bootstrapPassword: boot.password,
      async stop() {
        clearInterval(snapshots);
        await services.expiry.stop();
        services.imports.stop();
        await services.smsSender.stop();
        clearInterval(mpesaSweep);
        await dispatcher.stop();
        await hub.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await seq.close();
        await embedded?.stop();
      },
    };
  } catch (err) {
    await sequelize?.close().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    throw err;
  }
}
