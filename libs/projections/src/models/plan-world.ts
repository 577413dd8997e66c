import { Catalogue, chainSerials, deviceStream, planStream, toFacts, World } from '@careledger/domain';
import type { StreamSource } from './model';

/**
 * A plan's facts and those of every unit that held it (activation, pairings), read from the log
 * copy: what the plan and claim read models and views fold.
 */
export function planWorld(catalogue: Catalogue, planId: string, read: StreamSource): World {
  const events = read(planStream(planId));
  const plan = new World(catalogue, toFacts(events).facts).plan(planId);
  if (plan.status === 'purchased') for (const serial of chainSerials(plan)) events.push(...read(deviceStream(serial)));
  const set = toFacts(events);
  return new World(catalogue, set.facts, set);
}
