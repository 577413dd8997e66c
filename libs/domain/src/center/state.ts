/** The service-center aggregate's state: its latest registration (name and region, RULES R6). */
import type { Fact } from '../facts';
import type { CenterEvent, ServiceCenterRegistered } from './events';

export type CenterState =
  | { status: 'unknown'; centerId: string }
  | { status: 'registered'; centerId: string; registration: Fact<ServiceCenterRegistered> };

export function initialCenterState(centerId: string): CenterState {
  return { status: 'unknown', centerId };
}

export function evolveCenter(state: CenterState, fact: Fact<CenterEvent>): CenterState {
  const event = fact.event;
  switch (event.type) {
    case 'ServiceCenterRegistered':
      return { status: 'registered', centerId: state.centerId, registration: fact as Fact<ServiceCenterRegistered> };
    case 'EventCorrected':
      return state;
    default: {
      const never: never = event;
      throw new Error(`unknown service-center event ${(never as { type: string }).type}`);
    }
  }
}
