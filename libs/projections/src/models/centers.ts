/** The service-center directory: a center's name and region (RULES R6). */
import type Database from 'better-sqlite3';
import { Catalogue, toFacts, World } from '@careledger/domain';
import type { StoredEvent } from '@careledger/event-store';
import type { ReadModelSchema, StreamSource } from './model';

export const centersSchema: ReadModelSchema = {
  name: 'centers',
  tables: ['centers'],
  schema: (p) => `
    CREATE TABLE IF NOT EXISTS ${p}centers (
      center_id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      region TEXT NOT NULL
    );`,
  queryIndexes: () => '',
};

export interface ServiceCenter {
  centerId: string;
  name: string;
  region: string;
}

const PREFIX = 'service-center-';

export class CentersProjection {
  private readonly upsert: Database.Statement<[string, string, string]>;
  private readonly remove: Database.Statement<[string]>;

  constructor(
    db: Database.Database,
    private readonly catalogue: Catalogue,
    p: string,
    private readonly read: StreamSource,
  ) {
    this.upsert = db.prepare(`INSERT INTO ${p}centers (center_id, name, region) VALUES (?, ?, ?) ON CONFLICT(center_id) DO UPDATE SET name = excluded.name, region = excluded.region`);
    this.remove = db.prepare(`DELETE FROM ${p}centers WHERE center_id = ?`);
  }

  apply(e: StoredEvent): void {
    if (!e.streamId.startsWith(PREFIX)) return;
    if (e.type !== 'ServiceCenterRegistered' && e.type !== 'EventCorrected') return;
    // the center as its (corrected) facts tell it
    const centerId = e.streamId.slice(PREFIX.length);
    const state = new World(this.catalogue, toFacts(this.read(e.streamId)).facts).center(centerId);
    if (state.status === 'registered') this.upsert.run(centerId, state.registration.event.data.name, state.registration.event.data.region);
    else this.remove.run(centerId);
  }
}

export class CentersQueries {
  private readonly byId: Database.Statement<[string], ServiceCenter>;

  constructor(db: Database.Database, p: string) {
    this.byId = db.prepare(`SELECT center_id AS centerId, name, region FROM ${p}centers WHERE center_id = ?`);
  }

  center(centerId: string): ServiceCenter | undefined {
    return this.byId.get(centerId);
  }
}
