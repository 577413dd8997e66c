/**
 * careledger: the operator's command line.
 *   rebuild                       rebuild the read models into fresh tables and swap them in
 *   replay --serial S [--at T] [--known-at K]   the entitlement view and its explanation
 *   verify                        walk the hash chain of the whole log
 *   export [--out FILE]           the whole log as NDJSON (stdout by default)
 *   import --in FILE              restore an NDJSON export into an EMPTY embedded store
 *   sweep [--now T]               record warranty extensions whose condition has settled
 * Configuration as the server: CARELEDGER_DB, CARELEDGER_READ_DB, EVENTSTORE_CONNECTION_STRING,
 * CARELEDGER_CATALOGUE (or --db / --read-db).
 */
import 'reflect-metadata';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { SingleBar, Presets } from 'cli-progress';
import { foldEntitlements, gatherUnit } from '@careledger/domain';
import { openSqliteEventStore, SqliteEventStore, StoredEvent } from '@careledger/event-store';
import { rebuild } from '@careledger/projections';
import { Runtime } from '@careledger/runtime';
import { COMMANDS as EXTRA } from './extra';

const USAGE = `usage: careledger <command> [options]
  rebuild                                   rebuild the read models (fresh tables, then swap)
  replay --serial S [--at T] [--known-at K] print the entitlement view and its explanation
  verify                                    check the hash chain of the whole log
  export [--out FILE]                       write the log as NDJSON (default: stdout)
  import --in FILE                          restore an NDJSON export into an empty embedded store
  sweep [--now T]                           record warranty extensions whose condition has settled
${Object.entries(EXTRA).map(([name, c]) => `  ${name.padEnd(42)}${c.summary}`).join('\n')}
options: --db FILE (CARELEDGER_DB), --read-db FILE (CARELEDGER_READ_DB), --json`;

export interface CliContext {
  args: string[];
  dbPath: string;
  readDbPath: string;
  open(project?: boolean): Promise<Runtime>;
}

function paths(values: { db?: string; 'read-db'?: string }) {
  const dbPath = resolve(values.db ?? process.env.CARELEDGER_DB ?? join('data', 'careledger.sqlite'));
  const base = dbPath.replace(/\.[^./\\]+$/, '');
  const readDbPath = resolve(values['read-db'] ?? process.env.CARELEDGER_READ_DB ?? join(dirname(dbPath), `${base.split(/[\\/]/).pop()}.read.sqlite`));
  return { dbPath, readDbPath };
}

function bar(label: string): SingleBar {
  return new SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left`, stream: process.stderr, hideCursor: true, noTTYOutput: false, notTTYSchedule: 2000 },
    Presets.shades_classic,
  );
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const { values } = parseArgs({
    args: rest,
    strict: false,
    options: {
      db: { type: 'string' },
      'read-db': { type: 'string' },
      serial: { type: 'string' },
      at: { type: 'string' },
      'known-at': { type: 'string' },
      out: { type: 'string' },
      in: { type: 'string' },
      now: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const { dbPath, readDbPath } = paths(values as { db?: string; 'read-db'?: string });
  const open = (project = false) =>
    Runtime.open({
      dbPath,
      readDbPath,
      eventStoreConnectionString: process.env.EVENTSTORE_CONNECTION_STRING || null,
      cataloguePath: process.env.CARELEDGER_CATALOGUE || null,
      project,
    });

  switch (command) {
    case 'rebuild': {
      const rt = await open(false);
      const progress = bar('rebuild');
      const head = await rt.store.headPosition();
      progress.start(Number(head), 0);
      const result = await rebuild(rt.store, rt.readDb, rt.catalogue, { onProgress: (p) => progress.update(Number(p.position)) });
      progress.update(Number(result.position));
      progress.stop();
      const rate = result.events / (result.ms / 1000);
      console.log(JSON.stringify({ events: result.events, position: result.position.toString(), seconds: +(result.ms / 1000).toFixed(2), eventsPerSecond: Math.round(rate), peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) }));
      await rt.close();
      return 0;
    }
    case 'replay': {
      const serial = values.serial as string | undefined;
      if (!serial) {
        console.error('replay needs --serial');
        return 2;
      }
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
    case 'verify': {
      const rt = await open(false);
      const head = await rt.store.headPosition();
      const progress = bar('verify');
      progress.start(Number(head), 0);
      const report = await rt.store.verifyIntegrity({ onProgress: (p) => progress.update(Number(p.position)) });
      progress.update(Number(head));
      progress.stop();
      console.log(JSON.stringify({ events: report.events, ok: report.ok, firstBrokenPosition: report.firstBrokenPosition?.toString() ?? null }));
      await rt.close();
      return report.ok ? 0 : 1;
    }
    case 'export': {
      const rt = await open(false);
      const out: NodeJS.WritableStream = values.out ? createWriteStream(values.out as string) : process.stdout;
      const head = await rt.store.headPosition();
      const progress = values.out ? bar('export') : null;
      progress?.start(Number(head), 0);
      let after: bigint | null = null;
      let count = 0;
      for (;;) {
        const batch: StoredEvent[] = await rt.store.readAll({ after, maxCount: 5000 });
        if (batch.length === 0) break;
        for (const e of batch) {
          const line = JSON.stringify({ ...e, position: e.position.toString() }) + '\n';
          if (!out.write(line)) await new Promise<void>((r) => out.once('drain', () => r()));
        }
        count += batch.length;
        after = batch[batch.length - 1].position;
        progress?.update(Number(after));
      }
      progress?.stop();
      if (values.out) await new Promise<void>((r) => out.end(() => r()));
      console.error(JSON.stringify({ exported: count }));
      await rt.close();
      return 0;
    }
    case 'import': {
      const file = values.in as string | undefined;
      if (!file || !existsSync(file)) {
        console.error('import needs --in FILE (an NDJSON export)');
        return 2;
      }
      if (process.env.EVENTSTORE_CONNECTION_STRING) {
        console.error('import restores into the embedded store only (positions and hashes are kept)');
        return 2;
      }
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
      for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
        if (!line.trim()) continue;
        const e = JSON.parse(line);
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
      const now = values.now ? new Date(values.now as string) : new Date();
      const result = await rt.sweep(now);
      console.log(JSON.stringify(result));
      await rt.close();
      return 0;
    }
    default: {
      const extra = EXTRA[command];
      if (extra) return extra.run({ args: rest, dbPath, readDbPath, open });
      console.error(`unknown command ${command}\n${USAGE}`);
      return 2;
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

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof Error ? error.stack : error);
    process.exit(1);
  },
);
