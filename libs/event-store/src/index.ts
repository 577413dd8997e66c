export * from './port';
export { canonicalJson, GENESIS_HASH } from './hash';
export {
  openSqliteEventStore,
  SqliteEventStore,
  SQLITE_SCHEMA_VERSION,
  type ImportResult,
  type SqliteEventStoreOptions,
  type SqliteEventStoreStats,
} from './sqlite/sqlite-event-store';
export {
  openEventStoreDbEventStore,
  EventStoreDbEventStore,
  type EventStoreDbEventStoreOptions,
} from './eventstoredb/eventstoredb-event-store';
