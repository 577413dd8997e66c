/**
 * Loads the streams a command needs through a caller-supplied reader, following the links between
 * them (a unit's binding names its plan, the plan names its other units) until nothing new is
 * needed. The reader does the I/O; this stays pure of it.
 */
import { Catalogue } from './catalogue/catalogue';
import { Command } from './commands';
import { streamsFor, unitStreams } from './decide';
import { RecordedEvent, toFacts } from './facts';
import { World } from './world';

export interface Gathered {
  world: World;
  events: RecordedEvent[];
  /** Last revision of each loaded stream (-1 when the stream does not exist yet). */
  revisions: Map<string, number>;
}

export type StreamReader = (streamId: string) => Promise<RecordedEvent[]> | RecordedEvent[];

export function gather(catalogue: Catalogue, command: Command, read: StreamReader): Promise<Gathered> {
  return gatherStreams(catalogue, (world) => streamsFor(world, command), read);
}

/** Everything a unit's entitlement view needs: its stream, its plans, their other units. */
export function gatherUnit(catalogue: Catalogue, serial: string, read: StreamReader): Promise<Gathered> {
  return gatherStreams(catalogue, (world) => unitStreams(world, serial, true), read);
}

export async function gatherStreams(catalogue: Catalogue, needs: (world: World) => string[], read: StreamReader): Promise<Gathered> {
  const events: RecordedEvent[] = [];
  const revisions = new Map<string, number>();
  let world = new World(catalogue, []);
  for (let round = 0; round < 8; round++) {
    const needed = needs(world).filter((s) => !revisions.has(s));
    if (needed.length === 0) break;
    const loaded = await Promise.all(needed.map(async (s) => [s, await read(s)] as const));
    for (const [streamId, streamEvents] of loaded) {
      events.push(...streamEvents);
      revisions.set(streamId, streamEvents.reduce((max, e) => Math.max(max, e.revision), -1));
    }
    const set = toFacts(events);
    world = new World(catalogue, set.facts, set);
  }
  return { world, events, revisions };
}
