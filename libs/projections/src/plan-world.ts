import { Catalogue, chainSerials, deviceStream, planStream, RecordedEvent, toFacts, World } from '@careledger/domain';

/**
 * A plan's facts and those of every unit that held it (activation, pairings), read synchronously
 * from a read store: what the projector and the plan and claim views fold.
 */
export function planWorld(catalogue: Catalogue, planId: string, read: (streamId: string) => RecordedEvent[]): World {
  const events = read(planStream(planId));
  const plan = new World(catalogue, toFacts(events).facts);
  for (const serial of chainSerials(plan, planId)) events.push(...read(deviceStream(serial)));
  return new World(catalogue, toFacts(events).facts);
}
