/**
 * careledger: the operator's command line.
 *   rebuild                       rebuild the read models into fresh tables and swap them in
 *   replay --serial S [--at T] [--known-at K]   the entitlement view and its explanation
 *   verify [--checkpoints FILE [--public-key KEY]]   walk the hash chain; check checkpoints saved outside the store
 *   export [--out FILE]           the whole log as NDJSON (stdout by default)
 *   import --in FILE              restore an NDJSON export into an EMPTY embedded store
 *   sweep [--now T]               record warranty extensions whose condition has settled
 *   seed --db FILE --devices N    synthetic data into a separate store
 *   verify-statement FILE --public-key KEY   check an entitlement statement (JSON) with the operator's key
 * Configuration as the server: CARELEDGER_DB, CARELEDGER_READ_DB, CARELEDGER_DATABASE_URL,
 * EVENTSTORE_CONNECTION_STRING, CARELEDGER_CATALOGUE (or --db / --read-db), and the checkpoint signing
 * key where the server finds it (CARELEDGER_SIGNING_KEY[_FILE], else beside CARELEDGER_TOKENS_FILE or the store).
 * Progress bars count events, never positions (positions are not counts on EventStoreDB or PostgreSQL). The grammar, checks and usage texts are in args.ts;
 * `<command> --help` prints and exits 0, a wrong command line exits 2 with one sentence.
 */
import 'reflect-metadata';
import { createReadStream, createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { foldEntitlements, gatherUnit } from '@careledger/domain';
import { openSqliteEventStore, SqliteEventStore, StoredEvent } from '@careledger/event-store';
import { rebuild } from '@careledger/projections';
import { Runtime } from '@careledger/runtime';
import { EXIT, parseCommandLine, PROGRAM, Values } from './args';
import { exportLog } from './export';
import { COMMANDS as EXTRA } from './extra';
import { eventProgress } from './progress';
import { signingKeyOptions, verifyCommand } from './verify';
import { verifyStatementCommand } from './verify-statement';

export interface CliContext {
  args: string[];
  /** The options, checked by args.ts. */
  values: Values;
  dbPath: string;
  readDbPath: string;
  open(project?: boolean): Promise<Runtime>;
}

/** The store paths. `seed` never falls back on the live store's variables (args.ts requires its --db). */
function paths(values: { db?: string; 'read-db'?: string }, useEnv: boolean) {
  const env = useEnv ? process.env : {};
  const dbPath = resolve(values.db ?? env.CARELEDGER_DB ?? join('data', 'careledger.sqlite'));
  const base = dbPath.replace(/\.[^./\\]+$/, '');
  const readDbPath = resolve(values['read-db'] ?? env.CARELEDGER_READ_DB ?? join(dirname(dbPath), `${base.split(/[\\/]/).pop()}.read.sqlite`));
  return { dbPath, readDbPath };
}

/** The command being run and its store, for error messages. */
let running = '';
let runningDb = '';

async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(argv);
  if (parsed.kind === 'print') {
    (parsed.stream === 'stdout' ? process.stdout : process.stderr).write(`${parsed.text}\n`);
    return parsed.code;
  }
  const { spec, values, args: rest } = parsed;
  const command = spec.name;
  running = command;
  const { dbPath, readDbPath } = paths(values as { db?: string; 'read-db'?: string }, command !== 'seed');
  runningDb = dbPath;
  // a command that reads the log must not create an empty store where none was (and report on it)
  const remote = Boolean(process.env.EVENTSTORE_CONNECTION_STRING || process.env.CARELEDGER_DATABASE_URL);
  if (spec.needsStore && !remote && !existsSync(dbPath)) {
    console.error(`${PROGRAM} ${command}: there is no event store at ${dbPath} (nothing was created). Name it with --db FILE or CARELEDGER_DB.`);
    return EXIT.usage;
  }
  const open = (project = false) =>
    Runtime.open({
      dbPath,
      readDbPath,
      databaseUrl: process.env.CARELEDGER_DATABASE_URL || null,
      eventStoreConnectionString: process.env.EVENTSTORE_CONNECTION_STRING || null,
      cataloguePath: process.env.CARELEDGER_CATALOGUE || null,
      ...signingKeyOptions(process.env, dbPath),
      project,
    });

  switch (command) {
    case 'rebuild': {
      const rt = await open(false);
      try {
        // read models built from an altered log would serve it as the truth: verify first (from the
        // point verified last time, as the server does)
        const checking = await eventProgress(rt.store, 'verify');
        const verified = await rt.verify({ onProgress: (p) => checking.update(p.events) });
        checking.stop();
        if (!verified.ok) {
          const where = `the hash chain breaks at position ${verified.firstBrokenPosition} (intact up to ${verified.verifiedUpTo.position})`;
          if (!values.force) {
            console.error(`${PROGRAM} rebuild: refused: ${where}; the read models were left as they were. Find out what changed the log (careledger verify; restore it from a copy you trust), or run \`${PROGRAM} rebuild --force\` to build them from the log as it is.`);
            return EXIT.failed;
          }
          console.error(`${PROGRAM} rebuild: WARNING: ${where}; rebuilding anyway (--force): the read models will show the log as it is now, altered events included.`);
        }
        const progress = await eventProgress(rt.store, 'rebuild');
        const result = await rebuild(rt.store, rt.readDb, rt.catalogue, { onProgress: (p) => progress.update(p.events) });
        progress.update(result.events);
        progress.stop();
        const rate = result.events / (result.ms / 1000);
        console.log(JSON.stringify({
          events: result.events, position: result.position.toString(), seconds: +(result.ms / 1000).toFixed(2), eventsPerSecond: Math.round(rate),
          peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), chain: verified.ok ? 'intact' : `broken at ${verified.firstBrokenPosition} (--force)`,
          // the walk before the rebuild: from the point verified last time (0: the start of the log)
          verified: { from: verified.from?.position.toString() ?? '0', upTo: verified.verifiedUpTo.position.toString(), events: verified.events },
        }));
        return 0;
      } finally {
        await rt.close();
      }
    }
    case 'replay': {
      const serial = values.serial as string;
      const rt = await open(false);
      const gathered = await gatherUnit(rt.catalogue, serial, (s) => rt.store.readStream(s));
      if (gathered.events.length === 0) {
        console.error(`the ledger has no record of ${serial}`);
        await rt.close();
        return 1;
      }
      const view = foldEntitlements(rt.catalogue, gathered.events, {
        serial,
        at: (values.at as string | undefined) ?? null,
        knownAt: (values['known-at'] as string | undefined) ?? null,
        now: new Date().toISOString(),
      });
      if (values.json) console.log(JSON.stringify(view, null, 2));
      else printView(view, gathered.events);
      await rt.close();
      return 0;
    }
    case 'verify':
      return verifyCommand(values, dbPath, () => open(false));
    case 'export': {
      const rt = await open(false);
      const out: NodeJS.WritableStream = values.out ? createWriteStream(values.out as string) : process.stdout;
      const progress = await eventProgress(rt.store, 'export', { enabled: Boolean(values.out) });
      const result = await exportLog(rt.store, out, (events) => progress.update(events));
      progress.stop();
      if (values.out) await new Promise<void>((r) => out.end(() => r()));
      console.error(JSON.stringify(result.stopped ? { exported: result.exported, stopped: 'the reader closed the pipe' } : { exported: result.exported }));
      await rt.close();
      return 0;
    }
    case 'import': {
      const file = values.in as string;
      if (process.env.EVENTSTORE_CONNECTION_STRING || process.env.CARELEDGER_DATABASE_URL) {
        console.error('import restores into the embedded store only (positions and hashes are kept): unset EVENTSTORE_CONNECTION_STRING and CARELEDGER_DATABASE_URL');
        return 2;
      }
      mkdirSync(dirname(dbPath), { recursive: true });
      const store = openSqliteEventStore({ path: dbPath }) as SqliteEventStore;
      if ((await store.headPosition()) !== 0n) {
        console.error(`${dbPath} is not empty: import only into an empty store`);
        await store.close();
        return 1;
      }
      let batch: StoredEvent[] = [];
      let count = 0;
      const flush = async () => {
        if (batch.length === 0) return;
        await store.importEvents(batch);
        count += batch.length;
        batch = [];
      };
      let lineNumber = 0;
      for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
        lineNumber++;
        if (!line.trim()) continue;
        let e;
        try {
          e = JSON.parse(line);
        } catch {
          console.error(`${PROGRAM} import: ${file} line ${lineNumber} is not JSON: not an NDJSON export of careledger (nothing after line ${lineNumber - 1} was imported)`);
          await flush();
          await store.close();
          return EXIT.failed;
        }
        batch.push({ ...e, position: BigInt(e.position) });
        if (batch.length >= 5000) await flush();
      }
      await flush();
      const report = await store.verifyIntegrity();
      await store.close();
      console.log(JSON.stringify({ imported: count, ok: report.ok, next: 'run `careledger rebuild` to project the imported log' }));
      return report.ok ? 0 : 1;
    }
    case 'sweep': {
      const rt = await open(true);
      const now = values.now ? new Date(values.now as string) : new Date(); // checked by args.ts: an instant with offset
      const result = await rt.sweep(now);
      console.log(JSON.stringify(result));
      await rt.close();
      return 0;
    }
    case 'verify-statement':
      return verifyStatementCommand(values);
    default: {
      const extra = EXTRA[command];
      if (extra) return extra.run({ args: rest, values, dbPath, readDbPath, open });
      console.error(`${PROGRAM}: ${command} has no implementation`);
      return EXIT.failed;
    }
  }
}

function printView(view: ReturnType<typeof foldEntitlements>, events: { eventId: string; type: string; metadata: { recordedAt: string } }[]): void {
  const byId = new Map(events.map((e) => [e.eventId, e]));
  const { explanation, ...rest } = view;
  console.log(JSON.stringify(rest, null, 2));
  console.log('\nwhy:');
  for (const entry of explanation) {
    const facts = entry.eventIds.map((id) => `${byId.get(id)?.type ?? '?'}@${byId.get(id)?.metadata.recordedAt ?? '?'} (${id.slice(0, 8)})`);
    console.log(`  ${entry.field.padEnd(32)} ${entry.rules.join(', ').padEnd(24)} ${facts.join('; ')}`);
  }
}

/** Exits once stdout has been handed to the OS (a piped stdout is asynchronous). */
function exit(code: number): void {
  process.exitCode = code;
  if (process.stdout.writableLength === 0 || process.stdout.destroyed) process.exit(code);
  process.stdout.once('drain', () => process.exit(code));
  process.stdout.once('error', () => process.exit(code));
}

main(process.argv.slice(2)).then(exit, (error: unknown) => {
  // one sentence, no stack trace (CARELEDGER_DEBUG=1 shows it)
  let message = error instanceof Error ? error.message : String(error);
  if ((error as { code?: string }).code === 'SQLITE_NOTADB') message = `${runningDb} is not an event store (${message})`;
  console.error(`${PROGRAM}${running ? ` ${running}` : ''}: ${message}`);
  if (process.env.CARELEDGER_DEBUG === '1' && error instanceof Error) console.error(error.stack);
  exit(EXIT.failed);
});
