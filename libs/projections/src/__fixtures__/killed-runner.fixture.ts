/**
 * Child process for the "killed mid-batch" test: projects the log in batches of N and SIGKILLs
 * itself inside the batch transaction after K events were applied (before that batch commits).
 * argv: <events.sqlite> <read.sqlite> <batchSize> <killAfter>
 */
import Database from 'better-sqlite3';
import { defaultCatalogue } from '@careledger/domain';
import { openSqliteEventStore } from '@careledger/event-store';
import { Projector } from '../projector';
import { ProjectionRunner } from '../runner';
import { createSchema, LIVE } from '../read-store';

async function main(): Promise<void> {
  const [path, readPath, batch, killAfter] = process.argv.slice(2);
  const store = openSqliteEventStore({ path });
  const db = new Database(readPath);
  db.pragma('journal_mode = WAL');
  createSchema(db, LIVE);
  let applied = 0;
  const apply = Projector.prototype.apply;
  // crash injection: the process dies between two event writes of an open transaction
  Projector.prototype.apply = function (this: Projector, ...args: Parameters<Projector['apply']>) {
    if (++applied > Number(killAfter)) process.kill(process.pid, 'SIGKILL');
    return apply.apply(this, args);
  };
  const runner = new ProjectionRunner(store, db, defaultCatalogue(), LIVE, { batchSize: Number(batch) });
  for (;;) {
    const events = await store.readAll({ after: runner.checkpoint, maxCount: Number(batch) });
    if (events.length === 0) break;
    runner.applyBatch(events);
  }
}

void main();
