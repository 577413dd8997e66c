/**
 * The read side of one node, over its read store: every model's queries, and the checkpoint the
 * answers reflect.
 */
import type Database from 'better-sqlite3';
import { Catalogue, planStream } from '@careledger/domain';
import {
  CentersQueries, ClaimsQueries, DecisionQueries, EntitlementQueries, LogQueries, planView, PlansQueries, PlanView, UnitFolds,
} from './models';
import { readCheckpoint } from './read-store';

export class ReadModels {
  readonly log: LogQueries;
  readonly plans: PlansQueries;
  readonly claims: ClaimsQueries;
  readonly centers: CentersQueries;
  readonly entitlements: EntitlementQueries;
  readonly decisions: DecisionQueries;

  constructor(
    private readonly db: Database.Database,
    readonly catalogue: Catalogue,
    private readonly prefix = 'rm_',
    /** Where the checkpoint is known without a query (the runner feeding these tables). */
    private readonly checkpointOf: (() => bigint) | null = null,
    /** The per-unit folds (the runtime drops a unit's when a batch changes it). */
    folds: UnitFolds = new UnitFolds(),
  ) {
    this.log = new LogQueries(db, prefix);
    const read = (streamId: string) => this.log.read(streamId);
    this.plans = new PlansQueries(db, prefix);
    this.claims = new ClaimsQueries(db, catalogue, prefix, read, (s) => this.log.revision(s));
    this.centers = new CentersQueries(db, prefix);
    this.entitlements = new EntitlementQueries(db, catalogue, prefix, read, folds);
    this.decisions = new DecisionQueries(db, prefix);
  }

  checkpoint(): bigint {
    return this.checkpointOf ? this.checkpointOf() : readCheckpoint(this.db, this.prefix).position;
  }

  plan(planId: string, now: Date): PlanView | null {
    return planView(this.catalogue, planId, now, (s) => this.log.read(s), this.log.revision(planStream(planId)));
  }
}
