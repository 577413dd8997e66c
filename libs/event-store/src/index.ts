export * from './port';
export { canonicalJson, chainHash, eventHash, GENESIS_HASH, hashedMetadataOf, sha256Hex, storedEventHash, type HashedEvent } from './hash';
export { GroupCommit } from './group-commit';
export {
  createOwnerOnly,
  openSqliteEventStore,
  SqliteEventStore,
  SQLITE_SCHEMA_VERSION,
  type ImportResult,
  type SqliteEventStoreOptions,
  type SqliteEventStoreStats,
} from './sqlite/sqlite-event-store';
export {
  CARELEDGER_STREAM_PREFIXES,
  openEventStoreDbEventStore,
  EventStoreDbEventStore,
  type EventStoreDbClientCalls,
  type EventStoreDbEventStoreOptions,
  type EventStoreDbTuning,
} from './eventstoredb/eventstoredb-event-store';
export {
  openPostgresEventStore,
  PostgresEventStore,
  POSTGRES_SCHEMA_VERSION,
  type PostgresEventStoreOptions,
  type PostgresEventStoreStats,
} from './postgres/postgres-event-store';
