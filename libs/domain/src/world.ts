/**
 * The part of the ledger a decision or a view looks at: facts (corrections applied, facts.ts)
 * grouped by stream, and each aggregate's state folded from them with its own evolve.
 */
import { Catalogue } from './catalogue/catalogue';
import { CenterState, evolveCenter, initialCenterState } from './center/state';
import { CenterEvent, serviceCenterStream } from './center/events';
import { Chain, chainOf, originalSerial } from './plan/chain';
import { DeviceState, evolveDevice, initialDeviceState, activationOf } from './device/state';
import { DeviceEvent, deviceStream } from './device/events';
import { EventCorrected } from './correction/events';
import { Fact } from './facts';
import { evolvePlan, initialPlanState, PlanState } from './plan/state';
import { PlanEvent, planStream } from './plan/events';

export interface KnownCorrections {
  corrections: readonly Fact<EventCorrected>[];
  /** Voided event id -> the correction that voided it. */
  voided: ReadonlyMap<string, string>;
}

export class World {
  private readonly byStream = new Map<string, Fact[]>();
  private readonly devices = new Map<string, DeviceState>();
  private readonly plans = new Map<string, PlanState>();
  private readonly centers = new Map<string, CenterState>();
  private readonly chains = new Map<string, Chain | null>();

  constructor(
    readonly catalogue: Catalogue,
    readonly facts: readonly Fact[],
    /** The corrections among the loaded events and what they voided (X1), when the caller has them. */
    readonly known: KnownCorrections = { corrections: [], voided: new Map() },
  ) {
    for (const f of facts) {
      const list = this.byStream.get(f.streamId);
      if (list) list.push(f);
      else this.byStream.set(f.streamId, [f]);
    }
  }

  /** The facts of one stream in log order. */
  stream(streamId: string): Fact[] {
    return this.byStream.get(streamId) ?? [];
  }

  device(serial: string): DeviceState {
    let state = this.devices.get(serial);
    if (!state) {
      state = (this.stream(deviceStream(serial)) as Fact<DeviceEvent>[]).reduce(evolveDevice, initialDeviceState(serial));
      this.devices.set(serial, state);
    }
    return state;
  }

  plan(planId: string): PlanState {
    let state = this.plans.get(planId);
    if (!state) {
      state = (this.stream(planStream(planId)) as Fact<PlanEvent>[]).reduce(evolvePlan, initialPlanState(planId));
      this.plans.set(planId, state);
    }
    return state;
  }

  center(centerId: string): CenterState {
    let state = this.centers.get(centerId);
    if (!state) {
      state = (this.stream(serviceCenterStream(centerId)) as Fact<CenterEvent>[]).reduce(evolveCenter, initialCenterState(centerId));
      this.centers.set(centerId, state);
    }
    return state;
  }

  /** The plan's chain (terms, units, claims), or null when the plan was never purchased. */
  chain(planId: string): Chain | null {
    if (this.chains.has(planId)) return this.chains.get(planId)!;
    const plan = this.plan(planId);
    let chain: Chain | null = null;
    if (plan.status === 'purchased') {
      const serial = originalSerial(plan);
      chain = chainOf(this.catalogue, plan, serial ? activationOf(this.device(serial)) : null);
    }
    this.chains.set(planId, chain);
    return chain;
  }

  /** A world restricted to a subset of facts (e.g. those that happened by a business time). */
  filter(predicate: (f: Fact) => boolean): World {
    return new World(this.catalogue, this.facts.filter(predicate), this.known);
  }
}
