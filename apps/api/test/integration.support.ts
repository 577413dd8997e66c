/**
 * For the feed and webhook tests: nodes (the real app over a Runtime on a given store, on
 * loopback), a webhook receiver (node:http on 127.0.0.1), an event-stream reader, and writers that
 * append commands over HTTP. Like harness.ts, a node checks every answer it gets against its own
 * OpenAPI document (contract.ts), and an event-stream reader given the contract checks every
 * event it reads.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { EventStore } from '@careledger/event-store';
import { Runtime, RuntimeLogger } from '@careledger/runtime';
import { App, createApp } from '../src/app';
import { TokenRegistry } from '../src/auth/tokens';
import { loadConfig } from '../src/config';
import { Contract } from './contract';
import { Answer, As, callChecked, TOKENS } from './harness';

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  obj: object;
  msg?: string;
}

/** One node: a Runtime on the store and the HTTP app over it, listening on 127.0.0.1. */
export class Node {
  private constructor(
    readonly app: App,
    readonly runtime: Runtime,
    readonly base: string,
    readonly logs: LogLine[],
    /** The node's OpenAPI document: every answer `call` sees is checked against it. */
    readonly contract: Contract,
  ) {}

  static async start(store: EventStore, dir: string, name: string): Promise<Node> {
    const logs: LogLine[] = [];
    const logger: RuntimeLogger = {
      info: (obj, msg) => void logs.push({ level: 'info', obj, msg }),
      warn: (obj, msg) => void logs.push({ level: 'warn', obj, msg }),
      error: (obj, msg) => void logs.push({ level: 'error', obj, msg }),
    };
    const runtime = await Runtime.open({
      store, dbPath: join(dir, `${name}-unused.sqlite`), readDbPath: join(dir, `${name}.read.sqlite`), signingKeyDefaultFile: join(dir, `${name}-key.pem`), logger,
    });
    const config = { ...loadConfig({ CARELEDGER_DB: join(dir, `${name}-unused.sqlite`), LOG_LEVEL: 'silent' }), sweepIntervalSeconds: 0, logLevel: 'silent' };
    const app = await createApp(config, new TokenRegistry(Object.values(TOKENS).map((t) => ({ ...t }))), runtime);
    await app.app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.app.getHttpServer().address() as AddressInfo;
    const base = `http://127.0.0.1:${address.port}`;
    return new Node(app, runtime, base, logs, await Contract.load(base));
  }

  /** Stops the app, then the runtime (its dispatcher and its store connection). */
  async stop(): Promise<void> {
    await this.app.close();
    await this.runtime.close();
  }

  async call<T = any>(method: string, path: string, as: As, body?: unknown, headers: Record<string, string> = {}): Promise<Answer<T> & { text: string }> {
    return callChecked<T>(this.base, this.contract, method, path, as, body, headers);
  }


  get<T = any>(path: string, as: As = 'admin', headers?: Record<string, string>) {
    return this.call<T>('GET', path, as, undefined, headers);
  }

  put<T = any>(path: string, as: As, body?: unknown) {
    return this.call<T>('PUT', path, as, body);
  }

  post<T = any>(path: string, as: As, body?: unknown) {
    return this.call<T>('POST', path, as, body);
  }
}

/** A purchase over HTTP; every fourth one is refused (a unit activated long before: P4), leaving a CommandRefused fact. */
export async function appendCommand(node: Node, tag: string, i: number): Promise<void> {
  const serial = `${tag}-${i}`;
  if (i % 4 === 3) {
    const a = await node.post(`/v1/devices/${serial}/activation`, 'registry', { model: 'Mavic 3', region: 'US', activatedAt: '2024-01-01T10:00:00Z' });
    if (a.status !== 201) throw new Error(`activation ${serial}: ${a.status} ${a.text}`);
  }
  const p = await node.post('/v1/plans', 'sales', {
    term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-03-10T10:00:00Z', orderId: `O-${serial}`, serial,
  });
  if (p.status !== 201 && p.status !== 422) throw new Error(`purchase ${serial}: ${p.status} ${p.text}`);
}

/** `writers` concurrent writers, `each` commands apiece. */
export async function appendConcurrently(node: Node, tag: string, writers: number, each: number): Promise<void> {
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < each; i++) await appendCommand(node, `${tag}${w}`, i);
    }),
  );
}

export interface Received {
  headers: IncomingMessage['headers'];
  body: Buffer;
  json: any;
  at: number;
}

/** A webhook receiver on 127.0.0.1: answers each request as `respond` says; records every request. */
export class Receiver {
  readonly requests: Received[] = [];
  inFlight = 0;
  maxInFlight = 0;
  respond: (request: Received, index: number) => number | 'reset' | Promise<number | 'reset'> = () => 200;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(path = '/hooks/careledger'): Promise<Receiver> {
    const holder: { r?: Receiver } = {};
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r = holder.r!;
        const body = Buffer.concat(chunks);
        let json: unknown = null;
        try {
          json = JSON.parse(body.toString('utf8'));
        } catch {
          // recorded as is
        }
        const received: Received = { headers: req.headers, body, json, at: Date.now() };
        r.requests.push(received);
        r.inFlight++;
        r.maxInFlight = Math.max(r.maxInFlight, r.inFlight);
        void Promise.resolve(r.respond(received, r.requests.length - 1)).then((answer) => {
          r.inFlight--;
          if (answer === 'reset') req.socket.destroy();
          else res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'ok' : 'no');
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    holder.r = new Receiver(server, `http://127.0.0.1:${port}${path}`);
    return holder.r;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The deliveries, first receipt of each delivery id, in the order received. */
  firstReceipts(): Received[] {
    const seen = new Set<string>();
    return this.requests.filter((r) => {
      const id = String(r.headers['x-careledger-delivery']);
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
  }
}

export interface SseMessage {
  id: string | null;
  event: string | null;
  data: string | null;
  comment: string[];
}

/** Reads a text/event-stream with fetch, message by message. */
export class SseReader {
  private buffer = '';
  private readonly decoder = new TextDecoder();
  private done = false;

  private constructor(
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    private readonly controller: AbortController,
    readonly status: number,
    readonly headers: Headers,
    private readonly contract: Contract | null,
  ) {}

  /**
   * With `contract`, the answer's status and media type must be what the document says, and every
   * event message must carry a FeedEventView (as the document's text/event-stream says) whose
   * position and type are the message's id and event.
   */
  static async open(url: string, token: string, headers: Record<string, string> = {}, contract?: Contract): Promise<SseReader> {
    const controller = new AbortController();
    const res = await fetch(url, { headers: { accept: 'text/event-stream', authorization: `Bearer ${token}`, ...headers }, signal: controller.signal });
    if (contract) {
      const media = res.headers.get('content-type');
      const body = media?.includes('json') ? await res.clone().json().catch(() => null) : null;
      const drift = contract.check('GET', new URL(url).pathname, res.status, media, body);
      if (drift) {
        controller.abort();
        throw new Error(`OpenAPI drift: ${drift}`);
      }
    }
    return new SseReader(res.body!.getReader(), controller, res.status, res.headers, contract ?? null);
  }

  get ended(): boolean {
    return this.done;
  }

  /** The next message (events, id-only messages and comments), or null when the stream ended; rejects after `ms`. */
  async next(ms = 10_000): Promise<SseMessage | null> {
    const deadline = Date.now() + ms;
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const message: SseMessage = { id: null, event: null, data: null, comment: [] };
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) message.comment.push(line.slice(1).trim());
          else if (line.startsWith('id: ')) message.id = line.slice(4);
          else if (line.startsWith('event: ')) message.event = line.slice(7);
          else if (line.startsWith('data: ')) message.data = (message.data === null ? '' : `${message.data}\n`) + line.slice(6);
        }
        if (this.contract && message.data !== null) this.checkEvent(message);
        return message;
      }
      if (this.done) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no event-stream message in time');
      let timer: NodeJS.Timeout | undefined;
      const chunk = await Promise.race([
        this.reader.read(),
        new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), left))),
      ]).finally(() => clearTimeout(timer));
      if (chunk === 'timeout') throw new Error('no event-stream message in time');
      if (chunk.done) this.done = true;
      else this.buffer += this.decoder.decode(chunk.value, { stream: true });
    }
  }

  close(): void {
    this.controller.abort();
  }

  /** An event message: its data is a FeedEventView (the document's text/event-stream) with the message's id and type. */
  private checkEvent(message: SseMessage): void {
    let event: unknown;
    try {
      event = JSON.parse(message.data!);
    } catch {
      throw new Error(`OpenAPI drift: an event-stream message whose data is not JSON: ${message.data!.slice(0, 200)}`);
    }
    const drift = this.contract!.checkSchema('FeedEventView', event);
    if (drift) throw new Error(`OpenAPI drift: an event-stream message: ${drift}`);
    const { position, type } = event as { position: string; type: string };
    if (message.id !== position || message.event !== type) {
      throw new Error(`OpenAPI drift: an event-stream message with id ${message.id} and event ${message.event} carries the event at ${position} of type ${type}`);
    }
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value (not undefined) or `ms` pass. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
