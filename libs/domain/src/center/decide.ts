/** Decider of the service-center directory: register or update a center (its region is R6's service region). */
import type { CommandMeta } from '../commands';
import { Decision, knownRegion, repeat, single } from '../decision';
import { World } from '../world';
import type { RegisterServiceCenter } from './commands';
import { serviceCenterStream } from './events';

export function registerServiceCenter(world: World, c: RegisterServiceCenter, _meta: CommandMeta): Decision {
  knownRegion(world, c.region);
  const center = world.center(c.centerId);
  const outcome = { kind: 'center' as const, centerId: c.centerId, name: c.name, region: c.region };
  if (center.status === 'registered') {
    const last = center.registration;
    if (last.event.data.name === c.name && last.event.data.region === c.region) return repeat([last], outcome);
  }
  return single(serviceCenterStream(c.centerId), {
    type: 'ServiceCenterRegistered',
    data: { centerId: c.centerId, name: c.name, region: c.region, at: c.at },
  }, outcome);
}
