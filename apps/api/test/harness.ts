/**
 * Starts the real app in-process on temporary SQLite files and drives it over HTTP on loopback.
 * Every answer is checked against the app's own OpenAPI document (contract.ts).
 * Roles: admin, sales, registry (device-registry), auditor, sc1/sc2 (service-center:SC-1/SC-2), integration.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { EventStore } from '@careledger/event-store';
import { Runtime } from '@careledger/runtime';
import { App, createApp } from '../src/app';
import { TokenRegistry } from '../src/auth/tokens';
import { loadConfig } from '../src/config';
import { Contract } from './contract';

export const TOKENS = {
  admin: { token: 'admin-token-0001', role: 'admin' },
  sales: { token: 'sales-token-0001', role: 'sales' },
  registry: { token: 'registry-token-01', role: 'device-registry' },
  auditor: { token: 'auditor-token-001', role: 'auditor' },
  sc1: { token: 'center-one-token1', role: 'service-center:SC-1' },
  sc2: { token: 'center-two-token2', role: 'service-center:SC-2' },
  integration: { token: 'integration-token-1', role: 'integration' },
  /** A named token of SC-1: its name is the actor of what it records. */
  alice: { token: 'center-one-alice', role: 'service-center:SC-1', name: 'alice@sc-1' },
} as const;

export type As = keyof typeof TOKENS | null;
type Token = { token: string; role: string; name?: string };

export interface Answer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/**
 * One request over real HTTP as `as` (JSON body unless a content type is given), its answer parsed
 * when it is JSON and checked against the app's OpenAPI document (contract.ts): drift throws.
 */
export async function callChecked<T = any>(
  base: string, contract: Contract, method: string, path: string, as: As, body?: unknown, headers: Record<string, string> = {},
): Promise<Answer<T> & { text: string }> {
  const h: Record<string, string> = { ...headers };
  if (as) h.authorization = `Bearer ${TOKENS[as].token}`;
  let payload: string | undefined;
  if (body !== undefined) {
    h['content-type'] ??= 'application/json';
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch(base + path, { method, headers: h, body: payload });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON (metrics, html, csv)
  }
  const drift = contract.check(method, path, res.status, res.headers.get('content-type'), parsed);
  if (drift) throw new Error(`OpenAPI drift: ${drift}`);
  return { status: res.status, body: parsed as T, headers: res.headers, text };
}

export class TestServer {
  private constructor(
    readonly app: App,
    readonly baseUrl: string,
    /** The temporary directory of the node's files (log, read store, signing key). */
    readonly dataDir: string,
    /** The node's OpenAPI document: every answer `call` sees is checked against it. */
    readonly contract: Contract,
  ) {}

  /**
   * `store`: run on this store (e.g. one of libs/testing's testStores, PostgreSQL in a schema of its own) instead of a SQLite file.
   * `tokens`: these tokens instead of TOKENS (e.g. loaded from a tokens file with loadTokens).
   */
  static async start(env: Record<string, string> = {}, options: { store?: EventStore; tokens?: TokenRegistry } = {}): Promise<TestServer> {
    const dir = mkdtempSync(join(tmpdir(), 'careledger-api-'));
    const config = {
      ...loadConfig({ CARELEDGER_DB: join(dir, 'ledger.sqlite'), LOG_LEVEL: 'silent', ...env }),
      sweepIntervalSeconds: 0,
      logLevel: 'silent',
    };
    const tokens = options.tokens ?? new TokenRegistry(Object.values(TOKENS as Record<string, Token>).map((t) => ({ ...t })));
    const runtime = options.store
      ? await Runtime.open({ store: options.store, dbPath: config.dbPath, readDbPath: config.readDbPath, signingKeyDefaultFile: join(dir, 'signing-key.pem') })
      : undefined;
    const app = await createApp(config, tokens, runtime);
    if (runtime) {
      // the app leaves a runtime it was given open: close it with the app
      const close = app.close;
      app.close = async () => {
        await close();
        await runtime.close();
      };
    }
    await app.app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.app.getHttpServer().address() as AddressInfo;
    const baseUrl = `http://127.0.0.1:${address.port}`;
    return new TestServer(app, baseUrl, dir, await Contract.load(baseUrl));
  }

  async stop(): Promise<void> {
    await this.app.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  async call<T = any>(method: string, path: string, as: As, body?: unknown, headers: Record<string, string> = {}): Promise<Answer<T>> {
    return callChecked<T>(this.baseUrl, this.contract, method, path, as, body, headers);
  }


  post<T = any>(path: string, as: As, body?: unknown, headers?: Record<string, string>) {
    return this.call<T>('POST', path, as, body, headers);
  }

  put<T = any>(path: string, as: As, body?: unknown, headers?: Record<string, string>) {
    return this.call<T>('PUT', path, as, body, headers);
  }

  get<T = any>(path: string, as: As = 'admin', headers?: Record<string, string>) {
    return this.call<T>('GET', path, as, undefined, headers);
  }

  /** The number of events in the log (to prove refused requests append nothing). */
  async eventCount(): Promise<number> {
    return Number(await this.app.runtime.store.headPosition());
  }

  /** The types of the events appended after a count taken with eventCount(). */
  async typesAfter(count: number): Promise<string[]> {
    return (await this.app.runtime.store.readAll({ after: BigInt(count) })).map((e) => e.type);
  }
}

/** A small vocabulary over the API for scenarios. */
export function scenario(server: TestServer) {
  const expectOk = (a: Answer, what: string) => {
    if (a.status !== 201 && a.status !== 200) throw new Error(`${what}: ${a.status} ${JSON.stringify(a.body)}`);
    return a.body;
  };
  return {
    activate: async (serial: string, model: string, region: string, activatedAt: string) =>
      expectOk(await server.post(`/v1/devices/${serial}/activation`, 'registry', { model, region, activatedAt }), 'activation'),
    pair: async (serial: string, kind: string, action: string, at: string, ref = `${kind}-1`) =>
      expectOk(await server.post(`/v1/devices/${serial}/pairings`, 'registry', { kind, ref, action, at }), 'pairing'),
    buy: async (body: Record<string, unknown>) => expectOk(await server.post('/v1/plans', 'sales', body), 'purchase'),
    center: async (centerId: string, region: string) =>
      expectOk(await server.put(`/v1/service-centers/${centerId}`, 'admin', { name: `Center ${centerId}`, region }), 'service center'),
    open: (body: Record<string, unknown>, as: As = 'sc1') =>
      server.post('/v1/claims', as, { serviceCenterId: 'SC-1', kind: 'damage', cause: 'collision', ...body }),
    /** Opens, approves, pays and fulfils a damage claim; returns the approval answer. */
    replace: async (serial: string, claimRef: string, at: string, replacementSerial: string) => {
      const opened = expectOk(
        await server.post('/v1/claims', 'sc1', { claimRef, serial, kind: 'damage', cause: 'collision', incidentAt: at, openedAt: at, serviceCenterId: 'SC-1' }),
        'open claim',
      );
      const approval = expectOk(await server.post(`/v1/claims/${opened.claimId}/approval`, 'sc1', { at }), 'approval');
      expectOk(await server.post(`/v1/claims/${opened.claimId}/payment`, 'sc1', { at, ...approval.fee }), 'payment');
      expectOk(await server.post(`/v1/claims/${opened.claimId}/fulfilment`, 'sc1', { at, replacementSerial }), 'fulfilment');
      return { claimId: opened.claimId as string, approval };
    },
    entitlements: async (serial: string, query = '') => {
      const a = await server.get(`/v1/devices/${serial}/entitlements${query}`, 'sc1');
      if (a.status !== 200) throw new Error(`entitlements ${serial}: ${a.status} ${JSON.stringify(a.body)}`);
      return a.body;
    },
  };
}
