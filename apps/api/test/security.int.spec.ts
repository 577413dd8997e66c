/**
 * Issue 14 item 9, hardening: the CSP has nothing inline, HSTS only over TLS, /metrics needs a
 * token unless opened, store files are the owner's only, loose modes on secret files are warned
 * about, and the decision log keeps what a dispute needs and nothing secret.
 */
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secretFileWarnings } from '../src/auth/tokens';
import { scenario, TestServer, TOKENS } from './harness';

const PURCHASE = { term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-03-10T09:00:00-07:00' };

describe('security (issue 14, item 9)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await TestServer.start();
  });
  afterAll(() => server.stop());

  test('the CSP allows no inline script or style (the Swagger UI page at /docs: inline styles only)', async () => {
    for (const path of ['/v1/me', '/dashboard', '/health', '/nothing']) {
      const csp = (await server.get(path, 'admin')).headers.get('content-security-policy')!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
    }
    const docs = (await server.get('/docs', null)).headers.get('content-security-policy')!;
    expect(docs).toMatch(/script-src 'self'(;|$)/);
    expect(docs).toContain("style-src 'self' 'unsafe-inline'");
  });

  test('no HSTS over plain HTTP, whatever X-Forwarded-Proto says', async () => {
    expect((await server.get('/health', null)).headers.get('strict-transport-security')).toBeNull();
    expect((await server.get('/health', null, { 'x-forwarded-proto': 'https' })).headers.get('strict-transport-security')).toBeNull();
  });

  test('/metrics needs an auditor or admin token', async () => {
    expect((await server.get('/metrics', null)).status).toBe(401);
    expect((await server.get('/metrics', 'sales')).status).toBe(403);
    expect((await server.get('/metrics', 'sc1')).status).toBe(403);
    for (const as of ['auditor', 'admin'] as const) {
      const metrics = await server.get('/metrics', as);
      expect(metrics.status).toBe(200);
      expect(metrics.body).toContain('careledger_http_requests_total');
    }
  });

  test('/metrics is public when CARELEDGER_METRICS_PUBLIC=true', async () => {
    const open = await TestServer.start({ CARELEDGER_METRICS_PUBLIC: 'true' });
    try {
      expect((await open.get('/metrics', null)).status).toBe(200);
      // only /metrics: the rest still needs its token
      expect((await open.get('/v1/audit/events', null)).status).toBe(401);
    } finally {
      await open.stop();
    }
  });

  test('the store files (log, read store, their -wal and -shm) are created 0600', async () => {
    await scenario(server).buy({ ...PURCHASE, orderId: 'S-1', serial: 'S1-A' });
    const dir = server.dataDir;
    const files = ['ledger.sqlite', 'ledger.sqlite-wal', 'ledger.sqlite-shm', 'ledger.read.sqlite', 'ledger.read.sqlite-wal', 'ledger.read.sqlite-shm', 'signing-key.pem'];
    expect(Object.fromEntries(files.map((f) => [f, (statSync(join(dir, f)).mode & 0o777).toString(8)]))).toEqual(Object.fromEntries(files.map((f) => [f, '600'])));
  });

  test('a tokens file or signing key that others may read is warned about, clearly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'careledger-modes-'));
    try {
      const tokens = join(dir, 'tokens.json');
      const key = join(dir, 'signing-key.pem');
      writeFileSync(tokens, '[]');
      writeFileSync(key, 'k');
      chmodSync(tokens, 0o644);
      chmodSync(key, 0o640);
      const files = [{ file: tokens, what: 'tokens file' }, { file: key, what: 'signing key file' }, { file: join(dir, 'missing'), what: 'x' }, { file: null, what: 'y' }];
      expect(secretFileWarnings(files)).toEqual([
        { file: tokens, mode: '0644', message: `The tokens file ${tokens} may be read by its group and every user (mode 0644); it holds secrets: chmod 600 it.` },
        { file: key, mode: '0640', message: `The signing key file ${key} may be read by its group (mode 0640); it holds secrets: chmod 600 it.` },
      ]);
      chmodSync(tokens, 0o600);
      chmodSync(key, 0o400);
      expect(secretFileWarnings(files)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the decision log keeps a refusal\'s business fields, its code and rule, and no credential', async () => {
    const s = scenario(server);
    const { planId } = await s.buy({ ...PURCHASE, orderId: 'S-2', serial: 'S2-A' });
    const refused = await server.post(`/v1/plans/${planId}/renewals`, 'sales', { purchasedAt: '2025-03-01T10:00:00-08:00', orderId: 'S-R', term: '2y' }, { 'Idempotency-Key': 'key-S-R' });
    expect(refused.body.code).toBe('RenewalMustBe1Year');
    const [decision] = (await server.get(`/v1/audit/decisions?planId=${planId}&outcome=refused`, 'auditor')).body.items;
    expect(decision).toMatchObject({ outcome: 'refused', code: 'RenewalMustBe1Year', rule: 'P2', command: 'RenewPlan', actor: 'sales', planId });
    // the command's own fields: what the seller asked for, as the ledger decided it
    expect(decision.request).toEqual({ planId, purchasedAt: '2025-03-01T10:00:00-08:00', orderId: 'S-R', term: '2y', price: null });
    const text = JSON.stringify(decision);
    for (const secret of Object.values(TOKENS).map((t) => t.token)) expect(text).not.toContain(secret);
    expect(text).not.toContain('key-S-R');
    expect(text).not.toMatch(/authorization|bearer/i);
  });
});

describe('store files of a fresh data directory (umask 000)', () => {
  test('are still 0600', async () => {
    const previous = process.umask(0);
    let server: TestServer | null = null;
    try {
      server = await TestServer.start();
      await scenario(server).buy({ ...PURCHASE, orderId: 'U-1', serial: 'U1-A' });
      for (const f of ['ledger.sqlite', 'ledger.sqlite-wal', 'ledger.read.sqlite', 'ledger.read.sqlite-wal']) {
        expect([f, (statSync(join(server.dataDir, f)).mode & 0o777).toString(8)]).toEqual([f, '600']);
      }
    } finally {
      process.umask(previous);
      await server?.stop();
    }
  });
});
