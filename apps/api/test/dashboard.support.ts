/**
 * The dashboard tests' own harness: the real app in-process on a temporary SQLite store, listening
 * on a loopback port, plus a few API calls to seed a unit with a plan.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, createApp } from '../src/app';
import { TokenRegistry } from '../src/auth/tokens';
import { loadConfig } from '../src/config';

export const DASHBOARD_TOKENS = {
  admin: { token: 'dash-admin-token-1', role: 'admin' },
  sales: { token: 'dash-sales-token-1', role: 'sales' },
  registry: { token: 'dash-registry-token', role: 'device-registry' },
  auditor: { token: 'dash-auditor-token', role: 'auditor' },
  sc1: { token: 'dash-center-one-tok', role: 'service-center:SC-1' },
} as const;

export type Who = keyof typeof DASHBOARD_TOKENS;

export interface Running {
  app: App;
  base: string;
  call<T = Record<string, unknown>>(method: string, path: string, as: Who | null, body?: unknown): Promise<{ status: number; body: T; headers: Headers }>;
  stop(): Promise<void>;
}

export async function startDashboardApp(): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'careledger-dashboard-'));
  const config = { ...loadConfig({ CARELEDGER_DB: join(dir, 'ledger.sqlite') }), sweepIntervalSeconds: 0, logLevel: 'silent' };
  const tokens = new TokenRegistry(Object.values(DASHBOARD_TOKENS).map((t) => ({ ...t })));
  const app = await createApp(config, tokens);
  try {
    await app.app.listen({ port: 0, host: '127.0.0.1' });
  } catch (error) {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const { port } = app.app.getHttpServer().address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  return {
    app,
    base,
    async call<T>(method: string, path: string, as: Who | null, body?: unknown) {
      const headers: Record<string, string> = {};
      if (as) headers.authorization = `Bearer ${DASHBOARD_TOKENS[as].token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : null) as T, headers: res.headers };
    },
    async stop() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An instant `minutes` before now, ISO with offset. */
export const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

const expect201 = (what: string, r: { status: number; body: unknown }) => {
  if (r.status !== 201 && r.status !== 200) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
};

/** Opens a damage claim at SC-1 through the API (incident and opening at `at`, by default an hour ago); returns its id. */
export async function openClaimViaApi(run: Running, serial: string, claimRef: string, at: string = minutesAgo(60)): Promise<string> {
  const r = await run.call<{ claimId: string }>('POST', '/v1/claims', 'sc1', {
    claimRef, serial, kind: 'damage', cause: 'collision', incidentAt: at, openedAt: at, serviceCenterId: 'SC-1',
  });
  expect201(`claim ${claimRef}`, r);
  return r.body.claimId;
}

/** A Mavic 3 (US) activated and covered by an online 1-Year plan; center SC-1 registered in the US. */
export async function seedCoveredUnit(run: Running, serial: string, orderId: string): Promise<{ planId: string }> {
  expect201('activation', await run.call('POST', `/v1/devices/${serial}/activation`, 'registry', { model: 'Mavic 3', region: 'US', activatedAt: minutesAgo(180) }));
  const plan = await run.call<{ planId: string }>('POST', '/v1/plans', 'sales', {
    term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: minutesAgo(170), orderId, serial,
  });
  expect201('purchase', plan);
  expect201('service center', await run.call('PUT', '/v1/service-centers/SC-1', 'admin', { name: 'Los Angeles Service Center', region: 'US' }));
  return { planId: plan.body.planId };
}
