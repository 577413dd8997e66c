/**
 * What the integration routes (the event feed and webhooks) need of a node, as small abstract
 * classes bound in AppModule to the runtime's implementations (runtime-integration-ports.ts).
 */
import type { DeliveryAttempt, FeedPage, FeedQuery, WebhookView } from '@careledger/runtime';

/** The log in global order, from this node's copy of it. */
export abstract class EventFeed {
  /** Read-your-writes: false when the copy does not reflect this node's acknowledged writes (and `minPosition`) in time. */
  abstract consistent(minPosition?: bigint): Promise<boolean>;
  abstract page(query: FeedQuery): FeedPage;
  /** True once an event after `after` is there; false when `ms` pass or `signal` aborts first. */
  abstract waitBeyond(after: bigint, ms: number, signal: AbortSignal): Promise<boolean>;
}

export interface WebhookInput {
  url: string;
  types: string[] | null;
  secret: string;
}

/** The webhooks' configuration and delivery state, in the store's records. */
export abstract class WebhookDirectory {
  abstract put(webhookId: string, input: WebhookInput): Promise<{ created: boolean; view: WebhookView }>;
  abstract get(webhookId: string): Promise<WebhookView | null>;
  /** Delivery attempts, newest first, before the attempt `before` when given; null for an unknown webhook. */
  abstract deliveries(webhookId: string, options: { before?: number; limit: number }): Promise<{ items: DeliveryAttempt[]; next: number | null } | null>;
}
