export * from './port';
export { canonicalJson, GENESIS_HASH } from './hash';
export { handleCommand, type CommandHandling, type CommandResult, type DomainEvent } from './command-handler';
export { reserveOnce, type Reservation, type ReservationSpec } from './reservation';
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
