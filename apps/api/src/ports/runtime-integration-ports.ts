/** The ports of integration-ports.ts over one node's Runtime. */
import { Feed, FeedQuery, Runtime, WebhookRegistry } from '@careledger/runtime';
import { EventFeed, WebhookDirectory, WebhookInput } from './integration-ports';

export class RuntimeEventFeed extends EventFeed {
  private readonly feed: Feed;

  constructor(rt: Runtime) {
    super();
    this.feed = new Feed(rt);
  }

  consistent(minPosition?: bigint) {
    return this.feed.consistent(minPosition);
  }

  page(query: FeedQuery) {
    return this.feed.page(query);
  }

  waitBeyond(after: bigint, ms: number, signal: AbortSignal) {
    return this.feed.waitBeyond(after, ms, signal);
  }
}

export class RuntimeWebhookDirectory extends WebhookDirectory {
  private readonly registry: WebhookRegistry;

  constructor(rt: Runtime) {
    super();
    this.registry = new WebhookRegistry(rt.store, () => new Date());
  }

  put(webhookId: string, input: WebhookInput) {
    return this.registry.put(webhookId, input);
  }

  get(webhookId: string) {
    return this.registry.get(webhookId);
  }

  deliveries(webhookId: string, options: { before?: number; limit: number }) {
    return this.registry.deliveries(webhookId, options);
  }
}
