/**
 * evolve(readModels, event): applies one event to every read model, each in its own module. Applying
 * an event twice changes nothing: the runner skips positions at or below the checkpoint, and every
 * write is an idempotent upsert. Facts that are not the domain's (refusals, decisions) only reach
 * the log copy and the decision log.
 */
import type Database from 'better-sqlite3';
import { Catalogue, isDomainEvent } from '@careledger/domain';
import type { StoredEvent } from '@careledger/event-store';
import {
  ApplyEffects, CentersProjection, ClaimsProjection, DecisionsProjection, EntitlementsProjection, LogProjection, LogQueries, PlansProjection,
} from './models';

export class Projector {
  private readonly log: LogProjection;
  private readonly plans: PlansProjection;
  private readonly centers: CentersProjection;
  private readonly claims: ClaimsProjection;
  private readonly decisions: DecisionsProjection;
  private readonly cache: EntitlementsProjection;
  private readonly trackDirty: boolean;

  constructor(db: Database.Database, catalogue: Catalogue, readonly prefix: string, options: { trackDirty?: boolean } = {}) {
    this.trackDirty = options.trackDirty !== false;
    const logQueries = new LogQueries(db, prefix);
    const read = (streamId: string) => logQueries.read(streamId);
    this.log = new LogProjection(db, prefix);
    this.plans = new PlansProjection(db, catalogue, prefix, read);
    this.centers = new CentersProjection(db, catalogue, prefix, read);
    this.claims = new ClaimsProjection(db, catalogue, prefix, read);
    this.decisions = new DecisionsProjection(db, prefix);
    this.cache = new EntitlementsProjection(db, prefix);
  }

  apply(e: StoredEvent, effects: ApplyEffects): void {
    this.log.apply(e);
    if (isDomainEvent(e)) {
      this.plans.apply(e, effects, this.trackDirty);
      this.centers.apply(e);
      this.claims.apply(e);
    }
    this.decisions.apply(e);
  }

  /** Drops the cached views the batch made stale (inside the batch's transaction). */
  invalidate(serials: Iterable<string>): void {
    this.cache.invalidate(serials);
  }
}
