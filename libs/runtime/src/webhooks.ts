/**
 * Webhooks (API.md v1.1 "Integration"): the log's events POSTed to a receiver, at least once, in
 * log order per webhook, one event per delivery, signed with HMAC-SHA256 of the body, retried with
 * backoff, paused when the receiver keeps failing.
 *
 * Everything lives in the store's records, so any node can carry on where another stopped:
 * - `webhook:<id>`            the configuration, the only place the secret is kept;
 * - `webhook-state:<id>`      where delivery stands: the position delivered up to, failures, pause;
 * - `webhook-lease:<id>`      which node delivers (one at a time), until when;
 * - `webhook-attempt:<id>:<slot>` the last `historySize` attempts (a ring: slot = seq mod size).
 * Every write is a compare-and-set on the record's version. The state moves past an event only
 * after the receiver answered 2xx (so a node that dies in between makes the next one send it
 * again: at least once), and only the lease holder sends: a node renews its lease before a
 * delivery whenever less than half of it is left, and a request times out well before the lease
 * can lapse (leaseMs >= 2 x timeoutMs), so another node takes over only once the first has stopped
 * sending. The delivery id is derived from the webhook and the event, the same on every retry and
 * on every node, for the receiver to deduplicate.
 *
 * The dispatcher reads the events from the store itself (not this node's read models): delivery
 * does not depend on this node's projections, and any node continues from the position in the
 * state. Positions are compared, never subtracted.
 */
import { createHash, createHmac } from 'node:crypto';
import { ConcurrencyConflict, EventStore, StoredEvent, StoredRecord } from '@careledger/event-store';
import { FeedEvent, feedEventOf } from './feed';

export interface WebhookConfig {
  webhookId: string;
  url: string;
  /** Event types to deliver; null for every event. */
  types: string[] | null;
  secret: string;
  createdAt: string;
  updatedAt: string;
}

export interface PendingDelivery {
  position: string;
  eventId: string;
  type: string;
  deliveryId: string;
  /** Attempts made for this event so far. */
  attempts: number;
}

export interface WebhookState {
  status: 'active' | 'paused';
  /** Every event up to this position was delivered (or is not of the webhook's types). */
  after: string;
  /** Successful deliveries. */
  delivered: number;
  /** Attempts made (the last attempt's sequence number). */
  seq: number;
  consecutiveFailures: number;
  failingSince: string | null;
  nextAttemptAt: string | null;
  /** The event being retried. */
  pending: PendingDelivery | null;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  lastError: string | null;
  pausedAt: string | null;
  pausedReason: string | null;
  resumedAt: string | null;
}

export interface DeliveryAttempt {
  seq: number;
  deliveryId: string;
  webhookId: string;
  eventId: string;
  position: string;
  type: string;
  /** The n-th attempt for this event. */
  attempt: number;
  at: string;
  durationMs: number;
  node: string;
  outcome: 'delivered' | 'failed';
  /** The receiver's HTTP status; null when no answer came. */
  status: number | null;
  error: string | null;
}

interface Lease {
  holder: string;
  /** ms since the epoch (the holder's clock). */
  until: number;
}

/** What an admin sees of a webhook: never the secret. */
export interface WebhookView {
  webhookId: string;
  url: string;
  types: string[] | null;
  createdAt: string;
  updatedAt: string;
  status: 'active' | 'paused';
  pausedAt: string | null;
  pausedReason: string | null;
  resumedAt: string | null;
  /** Delivered (or skipped as not of its types) up to this position. */
  position: string;
  delivered: number;
  attempts: number;
  consecutiveFailures: number;
  failingSince: string | null;
  nextAttemptAt: string | null;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  lastError: string | null;
  pending: PendingDelivery | null;
  /** The node delivering it now (its lease is current); null when none is. */
  deliveringNode: string | null;
}

export interface WebhookPolicy {
  /** How often a node looks for webhooks to serve and for new events (ms). */
  pollMs: number;
  /** One delivery's timeout (ms). */
  timeoutMs: number;
  /** A node's claim on a webhook, renewed while it delivers; another node takes over once it lapses (ms). At least 2 x timeoutMs. */
  leaseMs: number;
  /** Backoff after a failure: the first wait, doubled per failure in a row up to the longest, +-20 % jitter (ms). */
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** A webhook pauses after this many failures in a row ... */
  pauseAfterFailures: number;
  /** ... or once it has been failing this long (ms), whichever comes first. */
  pauseAfterMs: number;
  /** Delivery attempts kept per webhook (the oldest are overwritten). */
  historySize: number;
  /** Events read from the store at a time. */
  batchSize: number;
  /** Webhooks one node delivers at the same time. */
  concurrency: number;
}

export const DEFAULT_WEBHOOK_POLICY: WebhookPolicy = {
  pollMs: 1000,
  timeoutMs: 10_000,
  leaseMs: 30_000,
  backoffInitialMs: 1000,
  backoffMaxMs: 15 * 60_000,
  pauseAfterFailures: 20,
  pauseAfterMs: 24 * 3600_000,
  historySize: 200,
  batchSize: 100,
  concurrency: 8,
};

export const configKey = (id: string) => `webhook:${id}`;
export const stateKey = (id: string) => `webhook-state:${id}`;
export const leaseKey = (id: string) => `webhook-lease:${id}`;
const attemptPrefix = (id: string) => `webhook-attempt:${id}:`;
const attemptKey = (id: string, seq: number, size: number) => `${attemptPrefix(id)}${String(seq % size).padStart(6, '0')}`;

/** Webhook ids: no colon (the record keys use it as a separator). */
export const WEBHOOK_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** The delivery id of an event for a webhook: the same on every retry and every node. */
export function deliveryIdOf(webhookId: string, eventId: string): string {
  const h = createHash('sha256').update(`careledger-delivery\n${webhookId}\n${eventId}`, 'utf8').digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** `sha256=<hex HMAC-SHA256 of the exact body bytes, keyed with the secret's UTF-8 bytes>`. */
export function signatureOf(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex')}`;
}

/** The body of a delivery: the same bytes on every retry. */
export interface DeliveryBody {
  webhookId: string;
  deliveryId: string;
  position: string;
  event: FeedEvent;
}

const initialState = (after: bigint): WebhookState => ({
  status: 'active', after: after.toString(), delivered: 0, seq: 0, consecutiveFailures: 0, failingSince: null, nextAttemptAt: null,
  pending: null, lastSuccessAt: null, lastFailureAt: null, lastError: null, pausedAt: null, pausedReason: null, resumedAt: null,
});

/**
 * The webhooks' records: configure, read, list attempts. Any node; no delivery happens here.
 */
export class WebhookRegistry {
  constructor(
    private readonly store: EventStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Creates or replaces a webhook. A new one delivers the events recorded after it was created;
   * a replaced one keeps its place in the log and, when paused, resumes from where it stopped.
   */
  async put(webhookId: string, input: { url: string; types: string[] | null; secret: string }): Promise<{ created: boolean; view: WebhookView }> {
    const at = this.now().toISOString();
    let created = false;
    await retryOnConflict(async () => {
      const current = await this.store.records.get<WebhookConfig>(configKey(webhookId));
      const config: WebhookConfig = { webhookId, url: input.url, types: input.types, secret: input.secret, createdAt: current?.value.createdAt ?? at, updatedAt: at };
      await this.store.records.put(configKey(webhookId), config, current?.version ?? null);
      created = current === null;
    });
    await retryOnConflict(async () => {
      const state = await this.store.records.get<WebhookState>(stateKey(webhookId));
      if (!state) {
        await this.store.records.put(stateKey(webhookId), initialState(await this.store.headPosition()), null);
        return;
      }
      const s = state.value;
      await this.store.records.put(
        stateKey(webhookId),
        {
          ...s, status: 'active', consecutiveFailures: 0, failingSince: null, nextAttemptAt: null, pausedAt: null, pausedReason: null,
          resumedAt: s.status === 'paused' ? at : s.resumedAt,
        } satisfies WebhookState,
        state.version,
      );
    });
    return { created, view: (await this.get(webhookId))! };
  }

  async get(webhookId: string): Promise<WebhookView | null> {
    const [config, state, lease] = await Promise.all([
      this.store.records.get<WebhookConfig>(configKey(webhookId)),
      this.store.records.get<WebhookState>(stateKey(webhookId)),
      this.store.records.get<Lease>(leaseKey(webhookId)),
    ]);
    if (!config) return null;
    const c = config.value;
    const s = state?.value ?? initialState(0n);
    return {
      webhookId: c.webhookId, url: c.url, types: c.types, createdAt: c.createdAt, updatedAt: c.updatedAt,
      status: s.status, pausedAt: s.pausedAt, pausedReason: s.pausedReason, resumedAt: s.resumedAt,
      position: s.after, delivered: s.delivered, attempts: s.seq, consecutiveFailures: s.consecutiveFailures, failingSince: s.failingSince,
      nextAttemptAt: s.nextAttemptAt, lastSuccessAt: s.lastSuccessAt, lastFailureAt: s.lastFailureAt, lastError: s.lastError, pending: s.pending,
      deliveringNode: lease && lease.value.until > this.now().getTime() ? lease.value.holder : null,
    };
  }

  /** The kept delivery attempts, newest first, those before `before` (a seq) when given; null for an unknown webhook. */
  async deliveries(webhookId: string, options: { before?: number; limit: number }): Promise<{ items: DeliveryAttempt[]; next: number | null } | null> {
    if (!(await this.store.records.get(configKey(webhookId)))) return null;
    const all = (await this.store.records.list<DeliveryAttempt>(attemptPrefix(webhookId))).map((r) => r.value);
    const newestFirst = all.filter((a) => options.before === undefined || a.seq < options.before).sort((a, b) => b.seq - a.seq);
    const items = newestFirst.slice(0, options.limit);
    return { items, next: newestFirst.length > options.limit ? items[items.length - 1].seq : null };
  }
}

async function retryOnConflict(write: () => Promise<void>, attempts = 20): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      return await write();
    } catch (error) {
      if (!(error instanceof ConcurrencyConflict) || i >= attempts - 1) throw error;
    }
  }
}

export interface DispatcherLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

type Outcome = { ok: true; status: number; durationMs: number } | { ok: false; status: number | null; error: string; durationMs: number };

/**
 * Delivers every configured webhook whose lease this node holds or can take. Start it on the
 * nodes that should deliver (any number: the leases keep one node per webhook); stop it before the
 * store closes. Its timers do not keep the process alive.
 */
export class WebhookDispatcher {
  private policy: WebhookPolicy = DEFAULT_WEBHOOK_POLICY;
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private readonly workers = new Map<string, Promise<void>>();
  /** The leases this node holds: until when (ms), as last written. */
  private readonly leases = new Map<string, number>();
  /** Events read ahead per webhook, valid while its state is still at `after`. */
  private readonly ahead = new Map<string, { after: string; config: string; events: StoredEvent[] }>();

  constructor(
    private readonly store: EventStore,
    readonly nodeId: string,
    private readonly logger: DispatcherLogger,
  ) {}

  get started(): boolean {
    return this.running;
  }

  start(policy: Partial<WebhookPolicy> = {}): void {
    if (this.running) return;
    const p = { ...DEFAULT_WEBHOOK_POLICY, ...policy };
    if (p.leaseMs < 2 * p.timeoutMs) throw new RangeError(`leaseMs (${p.leaseMs}) must be at least twice timeoutMs (${p.timeoutMs}): a request must end before the lease can lapse`);
    this.policy = p;
    this.running = true;
    this.schedule(0);
  }

  /**
   * Stops delivering: a delivery in flight is let finish (at most timeoutMs) and recorded, so the
   * receiver never sees this node and the next one at the same time; then the leases are handed
   * back and another node carries on at once.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.ticking;
    await Promise.allSettled([...this.workers.values()]);
    await Promise.allSettled([...this.leases.keys()].map((id) => this.release(id)));
    this.leases.clear();
    this.ahead.clear();
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => {
        this.ticking = null;
        this.schedule(this.policy.pollMs);
      });
    }, ms);
    this.timer.unref();
  }

  /** Looks at every webhook and starts a worker for those without one on this node. */
  private async tick(): Promise<void> {
    try {
      let after: string | undefined;
      for (;;) {
        const page = await this.store.records.list<WebhookConfig>('webhook:', { after, limit: 100 });
        for (const record of page) {
          if (!this.running) return;
          const id = record.value.webhookId;
          if (this.workers.has(id) || this.workers.size >= this.policy.concurrency) continue;
          const worker = this.serve(id)
            .catch((error: unknown) => this.logger.warn({ webhookId: id, err: error }, 'webhook delivery stopped on an error; retrying on the next tick'))
            .finally(() => this.workers.delete(id));
          this.workers.set(id, worker);
        }
        if (page.length < 100) break;
        after = page[page.length - 1].key;
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'webhooks: could not list the webhooks; retrying');
    }
  }

  /** Delivers one webhook's events in order until it is caught up, failing, paused or no longer this node's. */
  private async serve(id: string): Promise<void> {
    while (this.running) {
      if (!(await this.holdLease(id))) return;
      const [config, state] = await Promise.all([
        this.store.records.get<WebhookConfig>(configKey(id)),
        this.store.records.get<WebhookState>(stateKey(id)),
      ]);
      if (!config || !state || state.value.status === 'paused') return;
      if (state.value.nextAttemptAt && Date.parse(state.value.nextAttemptAt) > Date.now()) return;
      const event = await this.nextEvent(id, config.value, state);
      if (!event || !this.running) return;
      if (!(await this.holdLease(id))) return;
      const outcome = await this.send(config.value, event, state.value);
      const recorded = await this.record(id, state, event, outcome);
      if (!recorded || !outcome.ok) return;
    }
  }

  /**
   * The first event after the state's position that the webhook wants; moves the state past events
   * of other types (when a whole batch holds none) so they are not read again.
   */
  private async nextEvent(id: string, config: WebhookConfig, state: StoredRecord<WebhookState>): Promise<StoredEvent | null> {
    const cached = this.ahead.get(id);
    if (cached && cached.after === state.value.after && cached.config === config.updatedAt && cached.events.length > 0) return cached.events[0];
    const wanted = config.types === null ? null : new Set(config.types);
    const batch = await this.store.readAll({ after: BigInt(state.value.after), maxCount: this.policy.batchSize });
    if (batch.length === 0) return null;
    const events = wanted === null ? batch : batch.filter((e) => wanted.has(e.type));
    if (events.length > 0) {
      this.ahead.set(id, { after: state.value.after, config: config.updatedAt, events });
      return events[0];
    }
    const skipTo = batch[batch.length - 1].position.toString();
    try {
      await this.store.records.put(stateKey(id), { ...state.value, after: skipTo } satisfies WebhookState, state.version);
    } catch (error) {
      if (!(error instanceof ConcurrencyConflict)) throw error;
    }
    return null;
  }

  private async send(config: WebhookConfig, event: StoredEvent, state: WebhookState): Promise<Outcome> {
    const deliveryId = deliveryIdOf(config.webhookId, event.eventId);
    const attempt = state.pending?.eventId === event.eventId ? state.pending.attempts + 1 : 1;
    const body = JSON.stringify({ webhookId: config.webhookId, deliveryId, position: event.position.toString(), event: feedEventOf(event) } satisfies DeliveryBody);
    const started = performance.now();
    const timeout = AbortSignal.timeout(this.policy.timeoutMs);
    try {
      const response = await fetch(config.url, {
        method: 'POST',
        redirect: 'manual',
        signal: timeout,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'CareLedger-Webhooks/1',
          'x-careledger-webhook': config.webhookId,
          'x-careledger-delivery': deliveryId,
          'x-careledger-position': event.position.toString(),
          'x-careledger-event-type': event.type,
          'x-careledger-attempt': String(attempt),
          'x-careledger-signature': signatureOf(config.secret, body),
        },
        body,
      });
      await response.body?.cancel().catch(() => undefined);
      const durationMs = Math.round(performance.now() - started);
      if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status, durationMs };
      return { ok: false, status: response.status, error: `the receiver answered HTTP ${response.status}`, durationMs };
    } catch (error) {
      const durationMs = Math.round(performance.now() - started);
      const reason = timeout.aborted ? `no answer within ${this.policy.timeoutMs} ms` : describe(error);
      return { ok: false, status: null, error: reason, durationMs };
    }
  }

  /** Records the attempt: the state first (compare-and-set), then the attempt in the ring. */
  private async record(id: string, state: StoredRecord<WebhookState>, event: StoredEvent, outcome: Outcome): Promise<boolean> {
    const now = new Date();
    const at = now.toISOString();
    const s = state.value;
    const deliveryId = deliveryIdOf(id, event.eventId);
    const attempt = s.pending?.eventId === event.eventId ? s.pending.attempts + 1 : 1;
    const seq = s.seq + 1;
    let next: WebhookState;
    if (outcome.ok) {
      next = {
        ...s, after: event.position.toString(), delivered: s.delivered + 1, seq, consecutiveFailures: 0, failingSince: null, nextAttemptAt: null,
        pending: null, lastSuccessAt: at,
      };
    } else {
      const failures = s.consecutiveFailures + 1;
      const failingSince = s.failingSince ?? at;
      const p = this.policy;
      const wait = Math.min(p.backoffMaxMs, p.backoffInitialMs * 2 ** Math.min(failures - 1, 30)) * (0.8 + Math.random() * 0.4);
      const pauseReason =
        failures >= p.pauseAfterFailures
          ? `${failures} failed deliveries in a row (the last: ${outcome.error}); PUT the webhook again to resume`
          : now.getTime() - Date.parse(failingSince) >= p.pauseAfterMs
            ? `failing since ${failingSince} (the last: ${outcome.error}); PUT the webhook again to resume`
            : null;
      next = {
        ...s, seq, consecutiveFailures: failures, failingSince, nextAttemptAt: new Date(now.getTime() + Math.round(wait)).toISOString(),
        pending: { position: event.position.toString(), eventId: event.eventId, type: event.type, deliveryId, attempts: attempt },
        lastFailureAt: at, lastError: outcome.error,
        ...(pauseReason ? { status: 'paused' as const, pausedAt: at, pausedReason: pauseReason } : {}),
      };
      if (pauseReason) this.logger.warn({ webhookId: id, failures, position: event.position.toString() }, `webhook ${id} paused: ${pauseReason}`);
    }
    try {
      await this.store.records.put(stateKey(id), next, state.version);
    } catch (error) {
      if (error instanceof ConcurrencyConflict) return false; // replaced by an admin, or taken over: read again
      throw error;
    }
    if (outcome.ok) {
      const cached = this.ahead.get(id);
      if (cached && cached.events[0]?.eventId === event.eventId) this.ahead.set(id, { ...cached, after: next.after, events: cached.events.slice(1) });
    }
    const entry: DeliveryAttempt = {
      seq, deliveryId, webhookId: id, eventId: event.eventId, position: event.position.toString(), type: event.type, attempt, at,
      durationMs: outcome.durationMs, node: this.nodeId, outcome: outcome.ok ? 'delivered' : 'failed', status: outcome.status, error: outcome.ok ? null : outcome.error,
    };
    const key = attemptKey(id, seq, this.policy.historySize);
    try {
      const slot = await this.store.records.get(key);
      await this.store.records.put(key, entry, slot?.version ?? null);
    } catch (error) {
      // the history is informational: a lost entry never holds delivery up
      this.logger.warn({ webhookId: id, seq, err: error }, 'could not record a webhook delivery attempt');
    }
    return true;
  }

  /**
   * Takes or renews this node's lease on a webhook when less than half of it is left (no store
   * round trip while more is); false when another node holds it.
   */
  private async holdLease(id: string): Promise<boolean> {
    const known = this.leases.get(id);
    if (known !== undefined && known - Date.now() > this.policy.leaseMs / 2) return true;
    for (let i = 0; i < 5; i++) {
      const now = Date.now();
      const current = await this.store.records.get<Lease>(leaseKey(id));
      const lease = current?.value;
      if (lease && lease.holder !== this.nodeId && lease.until > now) {
        if (this.leases.delete(id)) this.logger.info({ webhookId: id, node: lease.holder }, `webhook ${id} is delivered by another node now`);
        this.ahead.delete(id);
        return false;
      }
      const until = now + this.policy.leaseMs;
      try {
        await this.store.records.put(leaseKey(id), { holder: this.nodeId, until } satisfies Lease, current?.version ?? null);
        if (!this.leases.has(id)) this.logger.info({ webhookId: id, node: this.nodeId }, `delivering webhook ${id} from this node`);
        this.leases.set(id, until);
        return true;
      } catch (error) {
        if (!(error instanceof ConcurrencyConflict)) throw error;
      }
    }
    return false;
  }

  /** Gives a lease back on a clean stop, so another node takes over at once instead of at its expiry. */
  private async release(id: string): Promise<void> {
    const current = await this.store.records.get<Lease>(leaseKey(id));
    if (current?.value.holder !== this.nodeId) return;
    await this.store.records.put(leaseKey(id), { holder: this.nodeId, until: 0 } satisfies Lease, current.version).catch(() => undefined);
  }
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code) return `${cause.code}${cause.message ? `: ${cause.message}` : ''}`.slice(0, 300);
  return (error instanceof Error ? error.message : String(error)).slice(0, 300);
}
