/**
 * What a decider returns: the events to append (stream by stream, a reservation before the stream
 * that confirms it), which one is the command's primary fact, and a typed outcome the application
 * turns into its answer. Plus the checks every decider shares (T4, C5).
 */
import type { Money, PolicyVersionId, Region, TermKind } from './catalogue/catalogue';
import type { ClaimStatus } from './claim/state';
import { InvalidCommand, Refusal } from './codes';
import type { CommandMeta } from './commands';
import type { DomainEvent } from './events';
import type { Fact } from './facts';
import type { ExtensionKind } from './plan/events';
import { instantMs, IsoDate } from './time';
import type { World } from './world';

export interface Append {
  streamId: string;
  events: DomainEvent[];
}

/** A term of a chain as an answer shows it. */
export interface TermOutcome {
  kind: TermKind;
  from: IsoDate;
  until: IsoDate;
}

/** What a command did, for the application to answer with (the domain does not shape HTTP answers). */
export type Outcome =
  | { kind: 'device'; serial: string }
  | { kind: 'plan'; planId: string; policyVersion: PolicyVersionId; effective: boolean; terms: TermOutcome[] }
  | { kind: 'claim'; claimId: string; planId: string; status: ClaimStatus; fee?: Money; ordinal?: number; replacementSerial?: string }
  | { kind: 'service'; serial: string; planId: string | null }
  | { kind: 'goodwill'; serial: string; planId: string | null; from: IsoDate; until: IsoDate }
  | { kind: 'correction'; eventId: string; targetType: string; action: 'void' | 'amend' }
  | { kind: 'center'; centerId: string; name: string; region: Region }
  | { kind: 'extensions'; planId: string; granted: ExtensionKind[]; reward: RewardSettlement };

/** Where a plan's safe-use reward stands for the sweep (W4, W5). */
export type RewardSettlement =
  | { status: 'done' }
  | { status: 'not-due'; settlesAtMs: number }
  | { status: 'unsettled-claims'; claimIds: string[] };

export interface Decision {
  /** In order: a reservation (if any) comes before the stream that confirms it. */
  appends: Append[];
  /** Which appended event is the command's primary fact: [append index, event index]. */
  primary: [number, number];
  outcome: Outcome;
  /** Set when the command was already carried out: nothing to append, answer from these facts. */
  repeatOf?: Fact[];
}

export function single(streamId: string, event: DomainEvent, outcome: Outcome): Decision {
  return { appends: [{ streamId, events: [event] }], primary: [0, 0], outcome };
}

export function repeat(facts: Fact[], outcome: Outcome): Decision {
  return { appends: [], primary: [0, 0], outcome, repeatOf: facts };
}

/** T4: a business instant beyond the tolerated clock skew is refused. */
export function notInFuture(world: World, meta: CommandMeta, ...instants: (string | null | undefined)[]): void {
  const limit = meta.now + world.catalogue.rules.futureSkewMinutes * 60_000;
  for (const value of instants) {
    if (value && instantMs(value) > limit) {
      throw new Refusal('OccurredInFuture', `${value} is in the future.`);
    }
  }
}

export function notBefore(field: string, value: string, earliestMs: number, earliestLabel: string): void {
  if (instantMs(value) < earliestMs) {
    throw new InvalidCommand([{ field, message: `must not be before ${earliestLabel}` }]);
  }
}

/** C5: a region outside the catalogue's sales regions is not a value the domain can reason about. */
export function knownRegion(world: World, region: string): void {
  if (!Object.prototype.hasOwnProperty.call(world.catalogue.data.regions, region)) {
    throw new InvalidCommand([{ field: 'region', message: `must be one of ${Object.keys(world.catalogue.data.regions).join(', ')}` }]);
  }
}
