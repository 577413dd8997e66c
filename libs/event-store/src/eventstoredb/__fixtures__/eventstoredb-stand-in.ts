/**
 * A fault-injecting stand-in for the few @eventstore/db-client 6.2.1 calls the EventStoreDB adapter
 * makes (appendToStream, readStream, readAll, subscribeToAll, setStreamMetadata, dispose), over an
 * in-memory log that answers like the server does per /work/shared/notes/eventstoredb-client.md:
 *
 * - $all positions are byte offsets (each event moves the position by its size), commit == prepare;
 *   readAll's fromPosition is inclusive, a subscription's start is exclusive.
 * - revisions start at 0; NO_STREAM / exact revisions are idempotent when the same ids sit right
 *   after the expected revision (the write is dropped, the original revision returned), otherwise
 *   WrongExpectedVersionError { streamName, expectedVersion, actualVersion }.
 * - a missing or soft-deleted stream fails DURING iteration with StreamNotFoundError; a soft-deleted
 *   stream is recreated by the next NO_STREAM/ANY append at its old last revision + 1, with `$tb`;
 *   a tombstoned one refuses appends with StreamDeletedError.
 * - every event gets `created` from the server clock (`now`, optionally stepping per event), and
 *   data/metadata go through JSON as on the wire. `$$stream` metadata writes are `$metadata` events.
 * - $all also holds system events and other applications' streams.
 * - `cancel()` / `unsubscribe()` stop the gRPC call but, as in the client, leave the Readable open
 *   (the client swallows its own cancellation): whoever cancels must also destroy it.
 *
 * Faults: append answers lost before or after the commit, appends that never answer, appends held
 * until dispose (then rejected as the client does: UnknownError "Cancelled on client"), reads that
 * never answer, dropped or ended subscriptions, a server ignoring the subscription filter, positions
 * near 2^64-1 and stream reads without positions (2^64-1), tampered events, concurrent writers.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  ANY,
  BACKWARDS,
  convertToCommandError,
  DeadlineExceededError,
  END,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamDeletedError,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
  type AppendExpectedRevision,
  type AppendResult,
  type Filter,
  type Position,
  type ReadPosition,
  type ReadRevision,
} from '@eventstore/db-client';

export const U64_MAX = (1n << 64n) - 1n;

export interface StandInEvent {
  streamId: string;
  id: string;
  revision: bigint;
  type: string;
  data: unknown;
  metadata: unknown;
  isJson: true;
  created: Date;
  position: Position;
}

interface StreamState {
  events: StandInEvent[];
  last: number;
  truncateBefore: number;
  softDeleted: boolean;
  tombstoned: boolean;
  maxCount?: number;
}

export type StandInCall =
  | { op: 'appendToStream'; stream: string; expectedRevision: AppendExpectedRevision; ids: string[]; metadata: unknown[] }
  | { op: 'readStream'; stream: string; fromRevision: ReadRevision; direction: string; maxCount?: number | bigint }
  | { op: 'readAll'; fromPosition: ReadPosition; direction: string; maxCount?: number | bigint }
  | { op: 'subscribeToAll'; fromPosition: ReadPosition; filter?: Filter }
  | { op: 'setStreamMetadata'; stream: string; metadata: Record<string, unknown> }
  | { op: 'dispose' };

/** What happens to one append call. */
export type AppendFault =
  /** The write commits, then the answer is lost (deadline exceeded): the outcome looks unknown. */
  | { kind: 'commit-then-fail'; error?: unknown }
  /** The call fails before reaching the server: nothing is written, the outcome looks unknown. */
  | { kind: 'fail-before-commit'; error?: unknown }
  /** The write commits and no answer ever comes. */
  | { kind: 'commit-then-hang' }
  /** Runs just before the server decides (e.g. another writer appends first). */
  | { kind: 'before'; run: () => void };

type ReadCall = Extract<StandInCall, { op: 'readStream' } | { op: 'readAll' }>;

export interface StandInOptions {
  /** First $all position. Default 1024. */
  firstPosition?: bigint;
  /** Server clock, ms since the epoch. Default Date.now. */
  now?: () => number;
  /** How much the server clock moves between two events of one append. Default 0. */
  clockStepPerEventMs?: number;
}

type ReadableWithCancel = Readable & { cancel(): Promise<void>; cancelled: boolean };
type SubscriptionStandIn = Readable & { unsubscribe(): Promise<void>; id?: string; serverFilter?: Filter; after: bigint };

/** The raw gRPC error the client gets for its own cancellation (dispose). */
export function clientCancellation(): Error {
  return Object.assign(new Error('1 CANCELLED: Cancelled on client'), { code: 1, details: 'Cancelled on client' });
}

/** The raw gRPC error appendToStream rejects with when no connection is up (code 14). */
export function unavailable(details = 'No connection established'): Error {
  return Object.assign(new Error(`14 UNAVAILABLE: ${details}`), { code: 14, details });
}

export class EventStoreDbStandIn {
  readonly log: StandInEvent[] = [];
  readonly calls: StandInCall[] = [];
  now: () => number;
  clockStepPerEventMs: number;
  /** Faults for the next append calls, in order (one per call); `forStream` narrows one to a stream. */
  readonly appendFaults: Array<AppendFault & { forStream?: string }> = [];
  /** Called before each append is decided (concurrent writers, counting attempts). */
  beforeAppend: ((stream: string) => void) | null = null;
  /** Reads for which this returns true never answer. */
  hangReads: ((call: ReadCall) => boolean) | null = null;
  /** Stream reads carry 2^64-1 as position (servers before 22.6). */
  unknownStreamPositions = false;
  /** Appends wait (and are rejected by dispose) instead of being answered. */
  holdAppends = false;
  /** The server sends every event to subscriptions, whatever their filter. */
  ignoreSubscriptionFilter = false;
  disposed = false;
  readonly cancelledReads: ReadableWithCancel[] = [];

  private readonly streams = new Map<string, StreamState>();
  private nextPosition: bigint;
  private readonly subscriptions = new Set<SubscriptionStandIn>();
  private readonly held: Array<{ reject: (error: unknown) => void }> = [];

  constructor(options: StandInOptions = {}) {
    this.nextPosition = options.firstPosition ?? 1024n;
    this.now = options.now ?? Date.now;
    this.clockStepPerEventMs = options.clockStepPerEventMs ?? 0;
  }

  /** Subscriptions the server is still feeding. */
  get liveSubscriptions(): number {
    return this.subscriptions.size;
  }

  callsOf<K extends StandInCall['op']>(op: K): Extract<StandInCall, { op: K }>[] {
    return this.calls.filter((c): c is Extract<StandInCall, { op: K }> => c.op === op);
  }

  // ------------------------------------------------------------------ client calls

  async appendToStream(
    streamName: string,
    events: unknown,
    options: { expectedRevision?: AppendExpectedRevision; deadline?: number } = {},
  ): Promise<AppendResult> {
    const list = (Array.isArray(events) ? events : [events]) as Array<{ id: string; type: string; data: unknown; metadata?: unknown }>;
    const expectedRevision = options.expectedRevision ?? ANY;
    this.calls.push({
      op: 'appendToStream',
      stream: streamName,
      expectedRevision,
      ids: list.map((e) => e.id),
      metadata: list.map((e) => JSON.parse(JSON.stringify(e.metadata ?? null))),
    });
    const index = this.appendFaults.findIndex((f) => f.forStream === undefined || f.forStream === streamName);
    const fault = index >= 0 ? this.appendFaults.splice(index, 1)[0] : undefined;
    await new Promise((resolve) => setImmediate(resolve));
    if (this.disposed) throw convertToCommandError(clientCancellation() as never);
    if (this.holdAppends) {
      await new Promise<void>((resolve, reject) => this.held.push({ reject: (error) => reject(error) }));
    }
    if (fault?.kind === 'before') fault.run();
    this.beforeAppend?.(streamName);
    if (fault?.kind === 'fail-before-commit') throw fault.error ?? unavailable();
    const result = this.commit(streamName, list, expectedRevision);
    if (fault?.kind === 'commit-then-fail') throw fault.error ?? new DeadlineExceededError(undefined, '4 DEADLINE_EXCEEDED: Deadline exceeded');
    if (fault?.kind === 'commit-then-hang') return new Promise<AppendResult>(() => undefined);
    return result;
  }

  readStream(
    streamName: string,
    options: { fromRevision?: ReadRevision; direction?: string; maxCount?: number | bigint } = {},
  ): ReadableWithCancel {
    const call: ReadCall = {
      op: 'readStream',
      stream: streamName,
      fromRevision: options.fromRevision ?? START,
      direction: options.direction ?? 'forwards',
      maxCount: options.maxCount,
    };
    this.calls.push(call);
    const readable = this.readable();
    if (this.hangReads?.(call)) return readable;
    const state = this.streams.get(streamName);
    let outcome: { error: Error } | { items: Array<{ event: StandInEvent }> };
    if (!state || state.softDeleted) outcome = { error: new StreamNotFoundError(undefined, streamName) };
    else if (state.tombstoned) outcome = { error: StreamDeletedError.fromStreamName(streamName) };
    else {
      const visible = this.visible(state);
      const max = options.maxCount === undefined ? Number.MAX_SAFE_INTEGER : Number(options.maxCount);
      const from = options.fromRevision ?? START;
      let chosen: StandInEvent[];
      if (options.direction === BACKWARDS) {
        const top = from === END ? Number.MAX_SAFE_INTEGER : from === START ? 0 : Number(from);
        chosen = visible.filter((e) => Number(e.revision) <= top).reverse().slice(0, max);
      } else {
        const bottom = from === START ? 0 : from === END ? Number.MAX_SAFE_INTEGER : Number(from);
        chosen = visible.filter((e) => Number(e.revision) >= bottom).slice(0, max);
      }
      outcome = {
        items: chosen.map((e) => ({
          event: this.unknownStreamPositions ? { ...e, position: { commit: U64_MAX, prepare: U64_MAX } } : e,
        })),
      };
    }
    this.answer(readable, outcome);
    return readable;
  }

  readAll(options: { fromPosition?: ReadPosition; direction?: string; maxCount?: number | bigint } = {}): ReadableWithCancel {
    const from = options.fromPosition ?? START;
    const call: ReadCall = { op: 'readAll', fromPosition: from, direction: options.direction ?? 'forwards', maxCount: options.maxCount };
    this.calls.push(call);
    const readable = this.readable();
    if (this.hangReads?.(call)) return readable;
    const max = options.maxCount === undefined ? Number.MAX_SAFE_INTEGER : Number(options.maxCount);
    let chosen: StandInEvent[];
    if (options.direction === BACKWARDS) {
      const top = from === END ? U64_MAX : from === START ? 0n : from.commit;
      chosen = this.log.filter((e) => e.position.commit <= top).reverse().slice(0, max);
    } else {
      const bottom = from === START ? 0n : from === END ? U64_MAX : from.commit;
      chosen = this.log.filter((e) => e.position.commit >= bottom).slice(0, max);
    }
    this.answer(readable, { items: chosen.map((e) => ({ event: e, commitPosition: e.position.commit })) });
    return readable;
  }

  subscribeToAll(options: { fromPosition?: ReadPosition; filter?: Filter } = {}, readableOptions: { highWaterMark?: number } = {}): SubscriptionStandIn {
    const from = options.fromPosition ?? START;
    this.calls.push({ op: 'subscribeToAll', fromPosition: from, filter: options.filter });
    const sub = new Readable({ objectMode: true, highWaterMark: readableOptions.highWaterMark, read() {} }) as SubscriptionStandIn;
    sub.serverFilter = options.filter;
    sub.after = from === START ? -1n : from === END ? (this.log.at(-1)?.position.commit ?? -1n) : from.commit;
    sub.unsubscribe = async () => {
      // the client cancels the gRPC call and swallows its own cancellation: the Readable stays open
      this.subscriptions.delete(sub);
    };
    setImmediate(() => {
      if (sub.destroyed) return;
      sub.emit('confirmation');
      for (const e of this.log) this.feed(sub, e);
      sub.emit('caughtUp');
      this.subscriptions.add(sub);
    });
    return sub;
  }

  async setStreamMetadata(streamName: string, metadata: Record<string, unknown>, options: { expectedRevision?: AppendExpectedRevision } = {}): Promise<AppendResult> {
    this.calls.push({ op: 'setStreamMetadata', stream: streamName, metadata });
    await new Promise((resolve) => setImmediate(resolve));
    const data: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(metadata)) {
      const wire = ({ maxCount: '$maxCount', maxAge: '$maxAge', truncateBefore: '$tb', cacheControl: '$cacheControl', acl: '$acl' } as Record<string, string>)[k] ?? k;
      data[wire] = v;
    }
    return this.commit(`$$${streamName}`, [{ id: randomUUID(), type: '$metadata', data }], options.expectedRevision ?? ANY);
  }

  async dispose(): Promise<void> {
    this.calls.push({ op: 'dispose' });
    this.disposed = true;
    for (const { reject } of this.held.splice(0)) reject(convertToCommandError(clientCancellation() as never));
    // live subscriptions and reads are cancelled: their Readables stay open, as with the client
    this.subscriptions.clear();
  }

  // ------------------------------------------------------------------ faults and test helpers

  /** The server or the network drops every subscription (server restart, leader change, slow consumer). */
  dropSubscriptions(error: Error = new UnavailableError(undefined, '14 UNAVAILABLE: Connection dropped')): void {
    for (const sub of [...this.subscriptions]) {
      this.subscriptions.delete(sub);
      sub.destroy(error);
    }
  }

  /** The server ends every subscription without an error. */
  endSubscriptions(): void {
    for (const sub of [...this.subscriptions]) {
      this.subscriptions.delete(sub);
      sub.push(null);
    }
  }

  /** Lets held appends through (they are then decided in order). */
  releaseAppends(): void {
    this.holdAppends = false;
  }

  /**
   * Another client's append, decided at once (synchronously): for races that must land before the
   * adapter's next call is decided. Throws WrongExpectedVersionError as the server would.
   */
  writeAsAnotherClient(
    streamName: string,
    events: Array<{ id?: string; type: string; data?: unknown; metadata?: unknown }>,
    expectedRevision: AppendExpectedRevision = ANY,
  ): AppendResult {
    return this.commit(
      streamName,
      events.map((e) => ({ id: e.id ?? randomUUID(), type: e.type, data: e.data ?? {}, metadata: e.metadata })),
      expectedRevision,
    );
  }

  /** Another application's events (no CareLedger metadata). */
  appendForeign(streamName: string, count = 1, type = 'OrderPlaced'): void {
    this.commit(
      streamName,
      Array.from({ length: count }, (_, i) => ({ id: randomUUID(), type, data: { i }, metadata: { source: 'other-app' } })),
      ANY,
    );
  }

  /** A system event in $all (statistics, links...). */
  appendSystem(): void {
    this.commit('$stats-127.0.0.1:2113', [{ id: randomUUID(), type: '$statsCollected', data: { cpu: 1 } }], ANY);
  }

  /** deleteStream: soft delete (reads fail as not found; the next append recreates it). */
  softDelete(streamName: string): void {
    const state = this.streams.get(streamName);
    if (!state) throw new Error(`no stream ${streamName}`);
    this.commit(`$$${streamName}`, [{ id: randomUUID(), type: '$metadata', data: { $tb: Number.MAX_SAFE_INTEGER * 1024 } }], ANY);
    state.softDeleted = true;
  }

  tombstone(streamName: string): void {
    const state = this.streams.get(streamName);
    if (!state) throw new Error(`no stream ${streamName}`);
    state.tombstoned = true;
  }

  /** Changes a stored event in place (what tampering with the files would do). */
  tamper(streamName: string, revision: number, change: (event: StandInEvent) => void): void {
    const event = this.streams.get(streamName)?.events.find((e) => Number(e.revision) === revision);
    if (!event) throw new Error(`no event ${streamName}@${revision}`);
    change(event);
  }

  streamEvents(streamName: string): StandInEvent[] {
    return this.streams.get(streamName)?.events ?? [];
  }

  // ------------------------------------------------------------------ the server

  private commit(
    streamName: string,
    list: Array<{ id: string; type: string; data: unknown; metadata?: unknown }>,
    expectedRevision: AppendExpectedRevision,
  ): AppendResult {
    let state = this.streams.get(streamName);
    if (state?.tombstoned) throw StreamDeletedError.fromStreamName(streamName);
    const current = state ? state.last : -1;
    const wrong = () =>
      new WrongExpectedVersionError(undefined, {
        streamName,
        expected: expectedRevision,
        current: current < 0 || state?.softDeleted ? 'no_stream' : BigInt(current),
      });
    let recreate = false;
    if (state?.softDeleted) {
      if (expectedRevision === NO_STREAM || expectedRevision === ANY || expectedRevision === BigInt(current)) recreate = true;
      else throw wrong();
    } else if (expectedRevision === ANY || expectedRevision === STREAM_EXISTS) {
      if (expectedRevision === STREAM_EXISTS && current < 0) throw wrong();
      const idempotent = this.sameIdsAt(state, list, current - list.length + 1);
      if (idempotent) return idempotent;
    } else {
      const expected = expectedRevision === NO_STREAM ? -1 : Number(expectedRevision);
      if (expected < current) {
        const idempotent = this.sameIdsAt(state, list, expected + 1);
        if (idempotent) return idempotent;
        throw wrong();
      }
      if (expected > current) throw wrong();
    }

    if (!state) {
      state = { events: [], last: -1, truncateBefore: 0, softDeleted: false, tombstoned: false };
      this.streams.set(streamName, state);
    }
    if (recreate) {
      state.softDeleted = false;
      state.truncateBefore = state.last + 1;
      this.commit(`$$${streamName}`, [{ id: randomUUID(), type: '$metadata', data: { $tb: state.truncateBefore } }], ANY);
    }
    const startedAt = this.now();
    let last: StandInEvent | undefined;
    list.forEach((e, i) => {
      const data = JSON.parse(JSON.stringify(e.data ?? null));
      const metadata = e.metadata === undefined ? undefined : JSON.parse(JSON.stringify(e.metadata));
      const size = BigInt(96 + streamName.length + e.type.length + JSON.stringify(data).length + JSON.stringify(metadata ?? '').length);
      const position = { commit: this.nextPosition, prepare: this.nextPosition };
      this.nextPosition += size;
      state!.last += 1;
      last = {
        streamId: streamName,
        id: e.id,
        revision: BigInt(state!.last),
        type: e.type,
        data,
        metadata,
        isJson: true,
        created: new Date(startedAt + i * this.clockStepPerEventMs),
        position,
      };
      state!.events.push(last);
      this.log.push(last);
      if (streamName.startsWith('$$') && e.type === '$metadata') this.applyMetadata(streamName.slice(2), data as Record<string, unknown>);
      for (const sub of this.subscriptions) this.feed(sub, last);
    });
    return { success: true, nextExpectedRevision: BigInt(state.last), position: last!.position };
  }

  private sameIdsAt(
    state: StreamState | undefined,
    list: Array<{ id: string }>,
    from: number,
  ): AppendResult | null {
    if (!state || from < 0) return null;
    const slice = state.events.filter((e) => Number(e.revision) >= from).slice(0, list.length);
    if (slice.length !== list.length || slice.some((e, i) => e.id !== list[i].id)) return null;
    const last = slice[slice.length - 1];
    return { success: true, nextExpectedRevision: last.revision, position: last.position };
  }

  private applyMetadata(streamName: string, data: Record<string, unknown>): void {
    const state = this.streams.get(streamName) ?? { events: [], last: -1, truncateBefore: 0, softDeleted: false, tombstoned: false };
    this.streams.set(streamName, state);
    if (typeof data.$maxCount === 'number') state.maxCount = data.$maxCount;
  }

  private visible(state: StreamState): StandInEvent[] {
    const kept = state.events.filter((e) => Number(e.revision) >= state.truncateBefore);
    return state.maxCount === undefined ? kept : kept.slice(-state.maxCount);
  }

  private feed(sub: SubscriptionStandIn, e: StandInEvent): void {
    if (sub.destroyed || e.position.commit <= sub.after) return;
    if (!this.ignoreSubscriptionFilter && sub.serverFilter && !matches(sub.serverFilter, e)) return;
    sub.push({ event: e, commitPosition: e.position.commit });
  }

  private readable(): ReadableWithCancel {
    const readable = new Readable({ objectMode: true, read() {} }) as ReadableWithCancel;
    readable.cancelled = false;
    readable.cancel = async () => {
      // the client cancels the gRPC call and swallows the cancellation: the Readable neither ends nor errors
      readable.cancelled = true;
      this.cancelledReads.push(readable);
    };
    return readable;
  }

  private answer(readable: Readable, outcome: { error: Error } | { items: unknown[] }): void {
    setImmediate(() => {
      if (readable.destroyed) return;
      if ('error' in outcome) {
        readable.destroy(outcome.error);
        return;
      }
      for (const item of outcome.items) readable.push(item);
      readable.push(null);
    });
  }
}

function matches(filter: Filter, e: StandInEvent): boolean {
  const subject = filter.filterOn === 'streamName' ? e.streamId : e.type;
  if ('prefixes' in filter) return filter.prefixes.some((p) => subject.startsWith(p));
  return new RegExp(filter.regex).test(subject);
}
