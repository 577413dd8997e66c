import type Database from 'better-sqlite3';
import type { RecordedEvent } from '@careledger/domain';

/** A read model's tables: created with the store, swapped in by a rebuild. */
export interface ReadModelSchema {
  readonly name: string;
  readonly tables: readonly string[];
  /** CREATE TABLE (and the indexes its own evolve reads) for a table prefix `p`, index prefix `i`. */
  schema(p: string, i: string): string;
  /** Indexes only queries read: built after a rebuild's bulk load. */
  queryIndexes(p: string, i: string): string;
}

/** What applying one event changed beyond the model's own rows (the entitlement cache to drop). */
export interface ApplyEffects {
  dirtySerials: Set<string>;
}

/** Reads of the log copy the projections keep (models/log): streams by id. */
export type StreamSource = (streamId: string) => RecordedEvent[];

export type Db = Database.Database;
