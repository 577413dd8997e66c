/*
 * A writer process for the SQLite integration tests (not a test itself). Run with
 *   node -r ./libs/testing/register.js <this file> crash <db>            append forever, print "<position> <eventId>" per acknowledged event
 *   node -r ./libs/testing/register.js <this file> contend <db> <stream> <count>   append <count> events with exact revisions, print "done"
 */
import { randomUUID } from 'node:crypto';
import { ConcurrencyConflict, type NewEvent } from '../../port';
import { openSqliteEventStore } from '../sqlite-event-store';

const [mode, path, streamId, count] = process.argv.slice(2);
const store = openSqliteEventStore({ path });

function event(type: string, data: unknown): NewEvent {
  return {
    eventId: randomUUID(),
    type,
    data,
    metadata: { occurredAt: '2026-11-22', actor: `pid:${process.pid}`, correlationId: randomUUID(), causationId: null },
  };
}

async function crash(): Promise<void> {
  await Promise.all(
    [0, 1, 2, 3].map(async (writer) => {
      for (let i = 0; ; i += 1) {
        const events = i % 3 === 0 ? [event('Tick', { writer, i }), event('Tock', { writer, i })] : [event('Tick', { writer, i })];
        const result = await store.appendToStream(`crash-${writer}`, events);
        process.stdout.write(events.map((e, k) => `${result.positions[k]} ${e.eventId}\n`).join(''));
      }
    }),
  );
}

async function contend(stream: string, total: number): Promise<void> {
  for (let i = 0; i < total; i += 1) {
    const next = event('Tick', { writer: `pid:${process.pid}`, i });
    for (;;) {
      const [last] = await store.readStream(stream, { direction: 'backwards', maxCount: 1 });
      try {
        await store.appendToStream(stream, [next], { expectedRevision: last ? last.revision : 'no_stream' });
        break;
      } catch (error) {
        if (!(error instanceof ConcurrencyConflict)) throw error;
      }
    }
  }
  await store.close();
  process.stdout.write('done\n');
}

const run = mode === 'crash' ? crash() : contend(streamId, Number(count));
run.catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
