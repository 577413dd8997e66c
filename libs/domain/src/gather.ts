/**
 * Loads the streams a command needs through a caller-supplied reader, following the links between
 * them (a unit's binding names its plan, the plan names its other units) until nothing new is
 * needed. The reader does the I/O; this stays pure of it.
 */
import { Catalogue } from './catalogue/catalogue';
import { World } from './chain';
import { Command } from './commands';
import { streamsFor } from './decide';
import { RecordedEvent, toFacts } from './facts';

export interface Gathered {
  world: World;
  events: RecordedEvent[];
  /** Last revision of each loaded stream (-1 when the stream does not exist yet). */
  revisions: Map<string, number>;
}

export async function gather(
  catalogue: Catalogue,
  command: Command,
  read: (streamId: string) => Promise<RecordedEvent[]> | RecordedEvent[],
): Promise<Gathered> {
  const events: RecordedEvent[] = [];
  const revisions = new Map<string, number>();
  let world = new World(catalogue, []);
  for (let round = 0; round < 8; round++) {
    const needed = streamsFor(world, command).filter((s) => !revisions.has(s));
    if (needed.length === 0) break;
    const loaded = await Promise.all(needed.map(async (s) => [s, await read(s)] as const));
    for (const [streamId, streamEvents] of loaded) {
      events.push(...streamEvents);
      revisions.set(streamId, streamEvents.reduce((max, e) => Math.max(max, e.revision), -1));
    }
    world = new World(catalogue, toFacts(events).facts);
  }
  return { world, events, revisions };
}
