import { createHash, randomUUID } from 'node:crypto';
import {
  type AppendExpectedRevision,
  BACKWARDS,
  END,
  type EventData,
  FORWARDS,
  jsonEvent,
  type JSONType,
  NO_STREAM,
  type ReadRevision,
  StreamNotFoundError,
  type WrongExpectedVersionError,
  type AppendResult as ClientAppendResult,
} from '@eventstore/db-client';
import { ConcurrencyConflict, type StoredRecord, StoreRecords, StoreUnavailable } from '../port';

/** A recorded event as the client returns it (the fields the records use). */
export interface RecordRawEvent {
  revision: bigint;
  type: string;
  data: unknown;
  created?: Date;
}

export type RecordSendOutcome =
  | { kind: 'ok'; result: ClientAppendResult }
  | { kind: 'conflict'; error: WrongExpectedVersionError }
  | { kind: 'unknown'; error: unknown };

/** What the records need from the adapter: its bounded reads, its settled writes, its errors. */
export interface RecordsBackend {
  readRaw(
    streamId: string,
    options: { direction: typeof FORWARDS | typeof BACKWARDS; fromRevision: ReadRevision; maxCount?: number },
    label: string,
  ): Promise<RecordRawEvent[]>;
  sendRecord(streamId: string, payload: EventData[], expectedRevision: AppendExpectedRevision): Promise<RecordSendOutcome>;
  setMaxCount(streamId: string, maxCount: number): Promise<void>;
  translate(error: unknown, doing: string): unknown;
}

const RECORD_EVENT_TYPE = 'CareLedgerRecord';
const RECORD_INDEX_EVENT_TYPE = 'CareLedgerRecordKey';

/** A UUID derived from a name (for the records index: the same key, the same event id). */
function nameUuid(name: string): string {
  const hex = createHash('sha1').update(name, 'utf8').digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Records on EventStoreDB: one stream per key, version = revision + 1, compare-and-set by exact
 * expected revision (the server's check), `$maxCount` keeping the last `keepVersions` versions. The
 * index stream lists every key ever created (written before the record, deduplicated on read).
 */
export class EventStoreDbRecords extends StoreRecords {
  private readonly keys = new Set<string>();
  /** Keys whose $maxCount this instance has written (once per key, not on every create attempt). */
  private readonly limited = new Set<string>();
  private sorted: string[] | null = [];
  private indexRevision = -1;
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly store: RecordsBackend,
    private readonly streamPrefix: string,
    private readonly indexStream: string,
    private readonly keepVersions: number,
  ) {
    super();
  }

  private streamOf(key: string): string {
    if (typeof key !== 'string' || key.length === 0) throw new TypeError('a record key must be a non-empty string');
    return `${this.streamPrefix}${key}`;
  }

  async get<V = unknown>(key: string): Promise<StoredRecord<V> | null> {
    const stream = this.streamOf(key);
    let raws: RecordRawEvent[];
    try {
      raws = await this.store.readRaw(stream, { direction: BACKWARDS, fromRevision: END, maxCount: 1 }, `record ${key}`);
    } catch (error) {
      if (error instanceof StreamNotFoundError) return null;
      throw this.store.translate(error, `reading record ${key}`);
    }
    const raw = raws[0];
    if (!raw || raw.type !== RECORD_EVENT_TYPE) return null;
    const data = (raw.data ?? {}) as { value?: V };
    return { key, value: data.value as V, version: Number(raw.revision) + 1, updatedAt: (raw.created ?? new Date(0)).toISOString() };
  }

  async put(key: string, value: unknown, expectedVersion: number | null): Promise<number> {
    const stream = this.streamOf(key);
    if (expectedVersion !== null && (!Number.isInteger(expectedVersion) || expectedVersion < 1)) {
      throw new TypeError(`expectedVersion must be null or a positive integer, got ${expectedVersion}`);
    }
    const event = jsonEvent({ id: randomUUID(), type: RECORD_EVENT_TYPE, data: { key, value } as JSONType });
    if (expectedVersion === null) {
      await this.indexKey(key);
      if (!this.limited.has(key)) {
        // before the first version: metadata may precede its stream, and a failed create leaves it harmless
        await this.store.setMaxCount(stream, this.keepVersions);
        this.limited.add(key);
      }
    }
    const expected: AppendExpectedRevision = expectedVersion === null ? NO_STREAM : BigInt(expectedVersion - 1);
    const outcome = await this.store.sendRecord(stream, [event], expected);
    if (outcome.kind === 'ok') return Number(outcome.result.nextExpectedRevision) + 1;
    if (outcome.kind === 'unknown') throw new StoreUnavailable(`write to record ${key}: outcome unknown`, outcome.error);
    const actual = outcome.error.actualVersion;
    throw new ConcurrencyConflict(`record:${key}`, expectedVersion, typeof actual === 'bigint' ? Number(actual) + 1 : 'no_stream');
  }

  async list<V = unknown>(prefix: string, options: { after?: string; limit?: number } = {}): Promise<StoredRecord<V>[]> {
    await this.refreshIndex();
    this.sorted ??= [...this.keys].sort();
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const out: StoredRecord<V>[] = [];
    for (const key of this.sorted) {
      if (out.length >= limit) break;
      if (!key.startsWith(prefix) || (options.after !== undefined && key <= options.after)) continue;
      const record = await this.get<V>(key);
      if (record) out.push(record);
    }
    return out;
  }

  /** Reads the index stream's new entries since the last refresh. */
  private refreshIndex(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const raws = await this.store.readRaw(
          this.indexStream,
          { direction: FORWARDS, fromRevision: BigInt(this.indexRevision + 1) },
          'the records index',
        );
        for (const raw of raws) {
          const k = (raw.data as { key?: unknown } | null)?.key;
          if (typeof k === 'string') this.addKey(k);
          this.indexRevision = Math.max(this.indexRevision, Number(raw.revision));
        }
      } catch (error) {
        if (!(error instanceof StreamNotFoundError)) throw this.store.translate(error, 'reading the records index');
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  private addKey(k: string): void {
    if (this.keys.has(k)) return;
    this.keys.add(k);
    this.sorted = null;
  }

  private async indexKey(key: string): Promise<void> {
    if (this.keys.has(key)) return;
    const event = jsonEvent({ id: nameUuid(`careledger-record-key:${key}`), type: RECORD_INDEX_EVENT_TYPE, data: { key } });
    const outcome = await this.store.sendRecord(this.indexStream, [event], 'any');
    if (outcome.kind !== 'ok') throw new StoreUnavailable(`could not index record key ${key}`);
    this.addKey(key);
  }
}
