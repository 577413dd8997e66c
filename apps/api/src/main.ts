/**
 * `npm start`: serves the API on PORT with the embedded SQLite store at CARELEDGER_DB, or on
 * EventStoreDB when EVENTSTORE_CONNECTION_STRING is set. Runs the reward sweep on a timer.
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { AddressInfo, createServer } from 'node:net';
import pino from 'pino';
import { loadCatalogue } from '@careledger/runtime';
import { App, createApp } from './app';
import { loadTokens, secretFileWarnings } from './auth/tokens';
import { AppConfig, ConfigError, loadConfig, logFormatOf } from './config';
import { appVersion } from './http/build-info';
import { banner, listenError, reachable, registerFirstCenter, storeOf } from './startup';

/** Exit code of a configuration the node cannot start with (the CLI's code for a wrong command line). */
const EXIT_CONFIG = 2;

async function main(): Promise<void> {
  const config = loadConfig();
  const tokens = loadTokens(config.tokensFile, config.dbPath);
  checkCatalogue(config);
  // a port another program holds is said before the node opens its store and does any work
  if (config.port !== 0) await probePort(config);
  const started = await createApp(config, tokens.registry);
  const { app, runtime, logger: appLogger, close } = started;
  const logger = appLogger.pino;
  const secretFiles = [
    { file: tokens.file, what: 'tokens file' },
    { file: config.signingKeyPem ? null : (config.signingKeyFile ?? config.signingKeyDefaultFile), what: 'signing key file' },
  ];
  for (const w of secretFileWarnings(secretFiles)) logger.warn({ file: w.file, mode: w.mode }, w.message);
  let center: { centerId: string; region: string } | null = null;
  if (tokens.generated) {
    logger.warn({ tokensFile: tokens.file }, `No CARELEDGER_TOKENS_FILE: wrote fresh random tokens (admin, sales, device-registry, auditor, service-center:SC-1) to ${tokens.file}`);
    // the generated service-center token's center goes into the directory before the port opens, so its first claim has a service region (R6)
    const first = await registerFirstCenter(runtime, Math.max(config.readWaitMs, 60_000));
    center = first;
    logger.info(first, first.registered ? `registered service center ${first.centerId} in region ${first.region} (change it with PUT /v1/service-centers/${first.centerId})` : `service center ${first.centerId} is in the directory already (region ${first.region})`);
  }
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await stopQuietly(started);
    throw listenError(error, config) ?? error;
  }
  const address = app.getHttpServer().address() as AddressInfo;
  const said = banner({
    version: appVersion(),
    at: reachable(config.host, address.port),
    store: storeOf(config, runtime.store.kind),
    tokensFile: tokens.file,
    tokensGenerated: tokens.generated,
    center,
  });
  if (appLogger.format === 'text') {
    if (logger.isLevelEnabled('info')) process.stdout.write(`${said.lines.join('\n')}\n`);
  } else {
    logger.info(said.fields, said.message);
  }

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

/** CARELEDGER_CATALOGUE names a catalogue the node can use (the runtime then loads it): else a ConfigError saying what is wrong. */
function checkCatalogue(config: AppConfig): void {
  const file = config.cataloguePath;
  if (!file) return;
  const refuse = (why: string) =>
    new ConfigError(
      'CARELEDGER_CATALOGUE',
      `CARELEDGER_CATALOGUE names ${file}, which ${why}: fix the file (libs/domain/src/catalogue/catalogue.v1.json shows the shape), or unset CARELEDGER_CATALOGUE to use the built-in catalogue.`,
    );
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw refuse(code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a directory, not a file' : `cannot be read (${code ?? String(error)})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw refuse(`is not valid JSON (${(error as Error).message})`);
  }
  const record = data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : null;
  const missing = ['version', 'regions', 'policyVersions', 'rules', 'models', 'fees'].filter((key) => record?.[key] === undefined);
  if (missing.length > 0) throw refuse(`is not a catalogue (it lacks ${missing.join(', ')})`);
  try {
    loadCatalogue(file);
  } catch (error) {
    const [first, ...problems] = String((error as Error).message).split('\n');
    throw refuse(`is not a catalogue this node can use (${[first.replace(/:$/, ''), ...problems.slice(0, 3)].join('; ')}${problems.length > 3 ? `; and ${problems.length - 3} more` : ''})`);
  }
}

/** Listens on HOST:PORT for a moment: a ConfigError when that cannot be done (the port taken, a privileged port, an address this machine lacks). */
function probePort(config: AppConfig): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error) => reject(listenError(error, config) ?? error));
    probe.listen({ port: config.port, host: config.host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** Closes what a failed start opened, within a bound. */
async function stopQuietly(started: App): Promise<void> {
  await Promise.race([started.close().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
}

/**
 * A configuration error is one sentence naming the variable and the fix, and exit code 2, never a
 * stack trace (CARELEDGER_DEBUG=1 adds it); in JSON logs it is a fatal record. Anything else is a
 * fault: its stack, and exit code 1.
 */
function fail(error: unknown): never {
  const format = logFormatOf();
  const debug = process.env.CARELEDGER_DEBUG === '1' || process.env.CARELEDGER_DEBUG === 'true';
  if (error instanceof ConfigError) {
    const sentence = error.message.replace(/\s*\n\s*/g, ' ');
    if (format === 'json') {
      const logger = pino({ base: { service: 'careledger-api' } }, pino.destination({ dest: 1, sync: true }));
      logger.fatal({ variable: error.variable, ...(debug ? { stack: error.stack } : {}) }, sentence);
    } else {
      process.stderr.write(`${sentence}\n${debug && error.stack ? `${error.stack}\n` : ''}`);
    }
    process.exit(EXIT_CONFIG);
  }
  if (format === 'json') {
    const logger = pino({ base: { service: 'careledger-api' } }, pino.destination({ dest: 1, sync: true }));
    logger.fatal({ err: error }, `CareLedger could not start: ${(error as Error)?.message ?? String(error)}`);
  } else {
    console.error(error);
  }
  process.exit(1);
}

main().catch(fail);
