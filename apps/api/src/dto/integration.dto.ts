/**
 * The integration routes (API.md v1.1 "Integration"): query strings and bodies (strict, like the
 * rest), and the answers as the OpenAPI document describes them (see answers.dto.ts for how a class
 * becomes a schema). The answers are built in libs/runtime (feed.ts, webhooks.ts).
 */
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsOptional, IsString, Matches, MaxLength, MinLength, registerDecorator, ValidationOptions } from 'class-validator';
import { ConsistencyQuery } from './queries.dto';
import { Instant, Int, Position } from './formats';

const EVENT_TYPE = /^[A-Za-z]{1,60}$/;

export class FeedQuery extends ConsistencyQuery {
  /**
   * Events after this global position (exclusive); default: from the start of the log.
   * @example "1042"
   */
  @IsOptional() @Matches(/^\d{1,20}$/, { message: 'after must be a global position (digits)' })
  after?: string;

  /** At most this many events (1-1000, default 100). */
  @IsOptional() @Matches(/^(?:[1-9]\d{0,2}|1000)$/, { message: 'limit must be an integer from 1 to 1000' })
  limit?: string;

  /** Only these event types, comma-separated (at most 50). */
  @IsOptional() @Matches(/^[A-Za-z]{1,60}(?:,[A-Za-z]{1,60}){0,49}$/, { message: 'types must be event type names separated by commas (at most 50)' })
  types?: string;

  /** Seconds (0-30) to hold the request until an event arrives. */
  @IsOptional() @Matches(/^(?:[0-9]|[12][0-9]|30)$/, { message: 'wait must be an integer number of seconds from 0 to 30' })
  wait?: string;
}

export class DeliveriesQuery {
  @IsOptional() @IsString() @MaxLength(200)
  cursor?: string;

  /** At most this many attempts (1-200, default 50). */
  @IsOptional() @Matches(/^(?:[1-9]\d?|1\d\d|200)$/, { message: 'limit must be an integer from 1 to 200' })
  limit?: string;
}

/** An absolute http(s) URL with a host and no credentials in it. */
export function isWebhookUrl(value: unknown): boolean {
  if (typeof value !== 'string' || value.length > 2000 || /\s/.test(value)) return false;
  if (Array.from(value).some((c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127)) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && url.username === '' && url.password === '';
}

function IsWebhookUrl(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isWebhookUrl',
      target: target.constructor,
      propertyName,
      options: { message: `${propertyName} must be an absolute http or https URL (at most 2000 characters) without credentials in it`, ...options },
      validator: { validate: isWebhookUrl },
    });
}

export class WebhookDto {
  /** Where deliveries are POSTed: an absolute http or https URL, no user or password in it. */
  @IsWebhookUrl() @IsString()
  url: string;

  /** Only these event types (default: every event). */
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(50) @ArrayUnique() @Matches(EVENT_TYPE, { each: true, message: 'each of types must be an event type name' })
  types?: string[] | null;

  /** The HMAC-SHA256 key that signs every delivery (16-256 characters). Stored in the store's records only; never answered. */
  @MaxLength(256, { message: 'secret must be at most 256 characters long' }) @MinLength(16, { message: 'secret must be at least 16 characters long' }) @IsString({ message: 'secret must be a string' })
  secret: string;
}

// ---------------------------------------------------------------------------------------------
// answers

/** One event as the feed (and a webhook delivery) carries it. */
export class FeedEventView {
  /** A global position of the log. Compare positions; never subtract them (on EventStoreDB they are byte offsets). */
  @Position()
  position: string;

  eventId: string;

  /** @example plan-2a0857ed-30fe-536e-9e71-f1e9cae11ed3 */
  streamId: string;

  /** The event's revision in its stream (0 = first). */
  @Int(0)
  revision: number;

  /**
   * The event type, including the ledger's decision facts (CommandRefused, CommandRepeated).
   * @example PlanPurchased
   */
  type: string;

  /** When it happened (business time). */
  @Instant()
  occurredAt: string;

  /** When the ledger recorded it (millisecond precision). */
  @Instant()
  recordedAt: string;

  /** Who recorded it (the token's name, else its role). */
  actor: string;

  /** The request that recorded it. */
  correlationId: string;

  causationId: string | null;

  /** The event's data, as its type defines it. */
  data: Record<string, unknown>;

  /** The chain hash the store stamped on the event (sha256 hex); null when the store gave none. */
  hash: string | null;
}

export class FeedPageView {
  /** In global order. */
  events: FeedEventView[];

  /**
   * Pass as `after` for the next page: the last event's position, or (with `types`) the last position examined; `after` itself on an empty page.
   * Compare positions; never subtract them.
   */
  @Position()
  next: string;
}

/** The event a webhook is retrying. */
export class PendingDeliveryView {
  @Position()
  position: string;

  eventId: string;

  type: string;

  /** The delivery id (X-CareLedger-Delivery): the same on every retry of this event. */
  deliveryId: string;

  /** Attempts made for this event so far. */
  @Int(2)
  attempts: number;
}

/** A webhook and where its delivery stands; never its secret. */
export class WebhookView {
  /** @example W-1 */
  webhookId: string;

  /**
   * Where deliveries are POSTed.
   * @example https://hooks.example.com/careledger
   */
  url: string;

  /** The event types delivered; null for every event. */
  types: string[] | null;

  @Instant()
  createdAt: string;

  @Instant()
  updatedAt: string;

  /** paused: it kept failing and is not retried until an admin PUTs it again. */
  status: 'active' | 'paused';

  @Instant()
  pausedAt: string | null;

  /** Why it paused. */
  pausedReason: string | null;

  /** When an admin last resumed it. */
  @Instant()
  resumedAt: string | null;

  /** Every event up to this position was delivered (or is not of its types). */
  @Position()
  position: string;

  /** Successful deliveries. */
  @Int()
  delivered: number;

  /** Delivery attempts made (successful or not). */
  @Int()
  attempts: number;

  @Int(0)
  consecutiveFailures: number;

  /** Since when the pending event has been failing. */
  @Instant()
  failingSince: string | null;

  /** When the failing event is tried again. */
  @Instant()
  nextAttemptAt: string | null;

  @Instant()
  lastSuccessAt: string | null;

  @Instant()
  lastFailureAt: string | null;

  lastError: string | null;

  /** The event being retried. */
  pending: PendingDeliveryView | null;

  /** The node delivering it now (holding its lease); null when none is. */
  deliveringNode: string | null;
}

/** One delivery attempt. */
export class DeliveryAttemptView {
  /** The attempt's sequence number for this webhook. */
  @Int(1)
  seq: number;

  /** The same for every attempt of one event: receivers deduplicate on it. */
  deliveryId: string;

  webhookId: string;

  eventId: string;

  @Position()
  position: string;

  type: string;

  /** The n-th attempt for this event. */
  @Int(1)
  attempt: number;

  /** When the attempt ended (was recorded). */
  @Instant()
  at: string;

  @Int(42)
  durationMs: number;

  /** The node that made the attempt. */
  node: string;

  outcome: 'delivered' | 'failed';

  /** The receiver's HTTP status; null when no answer came. */
  @Int(200)
  status: number | null;

  error: string | null;
}

export class DeliveriesPage {
  /** Newest first; the last 200 attempts are kept. */
  items: DeliveryAttemptView[];

  /** Pass as cursor for older attempts; null on the last page. */
  nextCursor: string | null;
}
