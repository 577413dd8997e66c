/**
 * `npm start`: serves the API on PORT with the embedded SQLite store at CARELEDGER_DB, or on
 * EventStoreDB when EVENTSTORE_CONNECTION_STRING is set. Runs the reward sweep on a timer.
 */
import 'reflect-metadata';
import { constants } from 'node:os';
import { createApp } from './app';
import { loadTokens, secretFileWarnings } from './auth/tokens';
import { loadConfig } from './config';

async function main(): Promise<void> {
  const config = loadConfig();
  const tokens = loadTokens(config.tokensFile, config.dbPath);
  const { app, runtime, logger: appLogger, close } = await createApp(config, tokens.registry);
  const logger = appLogger.pino;
  const secretFiles = [
    { file: tokens.file, what: 'tokens file' },
    { file: config.signingKeyPem ? null : (config.signingKeyFile ?? config.signingKeyDefaultFile), what: 'signing key file' },
  ];
  for (const w of secretFileWarnings(secretFiles)) logger.warn({ file: w.file, mode: w.mode }, w.message);
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

  // SIGTERM/SIGINT: stop once, within a bound (close() cuts lingering connections after the grace);
  // a second signal, or a close that does not finish in time, exits at once
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(128 + (constants.signals[signal] ?? 15));
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    if (timer) clearInterval(timer);
    if (signer) clearInterval(signer);
    setTimeout(() => {
      logger.error({ signal }, 'shutdown did not finish in time: exiting');
      process.exit(1);
    }, config.shutdownGraceMs + 5000);
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
