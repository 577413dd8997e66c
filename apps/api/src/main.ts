/**
 * `npm start`: serves the API on PORT with the embedded SQLite store at CARELEDGER_DB, or on
 * EventStoreDB when EVENTSTORE_CONNECTION_STRING is set. Runs the reward sweep on a timer.
 */
import 'reflect-metadata';
import { createApp } from './app';
import { loadTokens } from './auth/tokens';
import { loadConfig } from './config';

async function main(): Promise<void> {
  const config = loadConfig();
  const tokens = loadTokens(config.tokensFile, config.dbPath);
  const { app, runtime, logger: appLogger, close } = await createApp(config, tokens.registry);
  const logger = appLogger.pino;
  if (tokens.generated) {
    logger.warn({ tokensFile: tokens.file }, `No CARELEDGER_TOKENS_FILE: wrote fresh random tokens (admin, sales, device-registry, auditor, service-center:SC-1) to ${tokens.file}`);
  }
  await app.listen({ port: config.port, host: config.host });
  logger.info(
    { port: config.port, store: runtime.store.kind, db: config.eventStoreConnectionString ? null : config.dbPath, readDb: config.readDbPath, tokensFile: tokens.file },
    `CareLedger listening on http://localhost:${config.port} (docs at /docs, dashboard at /dashboard)`,
  );

  // webhook deliveries: every node runs the dispatcher; a lease in the store lets one node deliver each webhook (runtime.close() stops it)
  runtime.webhooks.start();

  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      const result = await runtime.sweep();
      if (result.granted > 0) logger.info(result, 'sweep recorded warranty extensions');
    } catch (error) {
      logger.error({ err: error }, 'sweep failed');
    } finally {
      sweeping = false;
    }
  };
  const timer = config.sweepIntervalSeconds > 0 ? setInterval(sweep, config.sweepIntervalSeconds * 1000) : null;
  timer?.unref();
  if (config.sweepIntervalSeconds > 0) setTimeout(sweep, 1000).unref();

  // signed checkpoints of the log's head, for operators to keep outside the store
  const sign = () => runtime.checkpoints.signHead().catch((error) => logger.error({ err: error }, 'signing the head failed'));
  const signer = config.checkpointIntervalSeconds > 0 ? setInterval(sign, config.checkpointIntervalSeconds * 1000) : null;
  signer?.unref();

  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    if (timer) clearInterval(timer);
    if (signer) clearInterval(signer);
    await close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
