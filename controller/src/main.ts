import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { startController } from './server.ts';

const config = (() => {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
})();
const logger = createLogger(config.logLevel);

try {
  const controller = await startController(config, logger);
  logger.info({ url: controller.url, publicUrl: config.publicUrl }, 'controller listening');
  if (controller.bootstrapPassword) {
    // printed once, on the console only, never into the JSON log
    process.stderr.write(
      `\n  Bootstrap admin created.  username: admin   password: ${controller.bootstrapPassword}\n  (shown once; change it after signing in)\n\n`,
    );
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    const timer = setTimeout(() => process.exit(1), 10_000);
    await controller.stop().catch((err: unknown) => logger.error({ err }, 'error while stopping'));
    clearTimeout(timer);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
} catch (err) {
  logger.fatal({ err }, 'controller failed to start');
  process.exit(1);
}
