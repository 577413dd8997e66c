/**
 * The built app as a process, the way `npm start` runs it: a first start without a tokens file
 * writes one and says where, /health answers, the OpenAPI document carries every body's schema
 * (the swagger plugin ran at build time), and SIGTERM shuts it down cleanly.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestServer } from './harness';

const root = join(__dirname, '..', '..', '..');
const main = join(root, 'dist', 'apps', 'api', 'apps', 'api', 'src', 'main.js');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitForHealth(url: string, child: ChildProcess, ms = 20_000): Promise<Response> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`the app exited with ${child.exitCode}`);
    try {
      return await fetch(url);
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('the app did not start');
}

describe('the built app (npm start)', () => {
  let dir: string;
  let child: ChildProcess;
  let output = '';
  let base: string;

  beforeAll(async () => {
    if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` (npm test does it in pretest)`);
    dir = mkdtempSync(join(tmpdir(), 'careledger-e2e-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [main], {
      env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', CARELEDGER_DB: join(dir, 'data', 'ledger.sqlite'), CARELEDGER_SWEEP_INTERVAL_SECONDS: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    await waitForHealth(`${base}/health`, child);
  }, 30_000);

  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  test('serves /health on the embedded store', async () => {
    const health = (await (await fetch(`${base}/health`)).json()) as any;
    expect(health).toMatchObject({ status: 'ok', store: { kind: 'sqlite', reachable: true } });
  });

  test('a first start writes fresh tokens and says where; they work', async () => {
    const file = join(dir, 'data', 'tokens.json');
    expect(output).toContain(file);
    const tokens = JSON.parse(readFileSync(file, 'utf8')) as { token: string; role: string }[];
    expect(tokens.map((t) => t.role)).toEqual(expect.arrayContaining(['admin', 'sales', 'device-registry', 'auditor']));
    const sales = tokens.find((t) => t.role === 'sales')!.token;
    const res = await fetch(`${base}/v1/plans`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sales}`, 'content-type': 'application/json' },
      body: JSON.stringify({ term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-03-10T09:00:00-07:00', orderId: 'E2E-1', serial: 'E2E-A' }),
    });
    expect(res.status).toBe(201);
  });

  test('the generated service-center token\'s center SC-1 is in the directory (region US): its claims have a service region (R6)', async () => {
    const tokens = JSON.parse(readFileSync(join(dir, 'data', 'tokens.json'), 'utf8')) as { token: string; role: string }[];
    const as = (role: string) => ({ authorization: `Bearer ${tokens.find((t) => t.role === role)!.token}`, 'content-type': 'application/json' });
    const post = async (path: string, role: string, body: unknown) => {
      const res = await fetch(`${base}${path}`, { method: 'POST', headers: as(role), body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as any };
    };
    const dashboard = (await (await fetch(`${base}/v1/service-centers/SC-1/dashboard`, { headers: as('service-center:SC-1') })).json()) as any;
    expect(dashboard).toMatchObject({ name: 'Service center SC-1', region: 'US' });

    const at = '2024-05-01T10:00:00-07:00';
    expect((await post('/v1/plans', 'sales', { term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-03-10T09:00:00-07:00', orderId: 'SC1-US', serial: 'SC1-US' })).status).toBe(201);
    const claim = { kind: 'damage', cause: 'collision', incidentAt: at, openedAt: at, serviceCenterId: 'SC-1' };
    const opened = await post('/v1/claims', 'service-center:SC-1', { ...claim, claimRef: 'SC1-C1', serial: 'SC1-US' });
    expect(opened.status).toBe(201);
    const events = (await (await fetch(`${base}/v1/audit/events?type=ClaimOpened&claimId=${opened.body.claimId}`, { headers: as('auditor') })).json()) as any;
    expect(events.items[0].data).toMatchObject({ serviceCenterId: 'SC-1', serviceRegion: 'US' });

    // R6 is decided, not skipped: a unit covered in the EU is out of SC-1's region
    expect((await post('/v1/plans', 'sales', { term: '1y', model: 'Mavic 3', region: 'EU', channel: 'online', purchasedAt: '2024-03-10T09:00:00+01:00', orderId: 'SC1-EU', serial: 'SC1-EU' })).status).toBe(201);
    const abroad = await post('/v1/claims', 'service-center:SC-1', { ...claim, claimRef: 'SC1-C2', serial: 'SC1-EU' });
    expect(abroad.body).toMatchObject({ status: 422, code: 'OutOfServiceRegion', rule: 'R6' });
  });

  test('the OpenAPI document has every path with its body schema', async () => {
    const doc = (await (await fetch(`${base}/docs-json`)).json()) as any;
    const paths = Object.keys(doc.paths);
    for (const p of [
      '/v1/devices/{serial}/activation', '/v1/devices/{serial}/pairings', '/v1/devices/{serial}/verifications', '/v1/plans',
      '/v1/plans/{planId}/binding', '/v1/plans/{planId}/renewals', '/v1/plans/{planId}/care-plus', '/v1/plans/{planId}',
      '/v1/claims', '/v1/claims/{claimId}/approval', '/v1/claims/{claimId}/denial', '/v1/claims/{claimId}/cancellation',
      '/v1/claims/{claimId}/payment', '/v1/claims/{claimId}/fulfilment', '/v1/claims/{claimId}', '/v1/devices/{serial}/service-records',
      '/v1/service-centers/{centerId}', '/v1/corrections', '/v1/devices/{serial}/warranty-extensions', '/v1/devices/{serial}/entitlements',
      '/v1/devices/{serial}/history', '/v1/devices/{serial}/timeline', '/v1/audit/events', '/v1/audit/decisions', '/v1/audit/verify',
      '/v1/service-centers/{centerId}/dashboard', '/v1/service-centers/{centerId}/claims', '/health', '/metrics',
      '/v1/corrections/preview', '/v1/devices/{serial}/statement',
    ]) {
      expect(paths).toContain(p);
    }
    expect(Object.keys(doc.components.schemas.PurchaseDto.properties)).toEqual(
      expect.arrayContaining(['term', 'model', 'region', 'channel', 'purchasedAt', 'orderId', 'serial', 'deliveredAt', 'price']),
    );
    expect(doc.components.schemas.ClaimDto.properties.cause.enum).toContain('flyaway');
    expect((await fetch(`${base}/docs`)).status).toBe(200);
  });

  test('the OpenAPI document has every operation\'s responses: a 2xx with its schema and the problem answers', async () => {
    const doc = (await (await fetch(`${base}/docs-json`)).json()) as any;
    const schemas = doc.components.schemas;
    const resolve = (schema: any) => (schema?.$ref ? schemas[schema.$ref.replace('#/components/schemas/', '')] : schema);
    const missing: string[] = [];
    let operations = 0;
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      if (!path.startsWith('/v1/')) continue;
      for (const [method, op] of Object.entries<any>(item)) {
        operations++;
        const name = `${method.toUpperCase()} ${path}`;
        const success = Object.keys(op.responses).filter((status) => /^2\d\d$/.test(status));
        if (success.length === 0) missing.push(`${name}: no 2xx response`);
        for (const status of success) {
          const schema = resolve(op.responses[status].content?.['application/json']?.schema);
          if (!schema?.properties) missing.push(`${name} ${status}: no schema`);
        }
        // GET /v1/me takes no input and answers any valid token: it has no 400 or 403 to document
        for (const status of path === '/v1/me' ? ['401'] : ['400', '401', '403']) {
          const ref = op.responses[status]?.content?.['application/problem+json']?.schema?.$ref;
          if (ref !== '#/components/schemas/Problem') missing.push(`${name} ${status}: no problem+json answer`);
        }
        if (method === 'post' && path !== '/v1/admin/sweeps' && path !== '/v1/audit/checkpoints') {
          // a preview appends nothing: 200 only, never 201
          const answers = path === '/v1/corrections/preview' ? ['200', '409', '422'] : ['200', '201', '409', '422'];
          for (const status of answers) if (!op.responses[status]) missing.push(`${name}: no ${status}`);
          if (!op.parameters?.some((p: any) => p.in === 'header' && p.name === 'Idempotency-Key')) missing.push(`${name}: no Idempotency-Key`);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(operations).toBe(38); // 32, the correction preview and the statement (disputes), the feed and webhooks (integration)
    // and outside /v1: GET / (the landing answer), /health, /health/live, /health/ready, /metrics
    const all = Object.values<any>(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    expect(all).toBe(43);
    const landing = doc.paths['/'].get;
    expect(landing.operationId).toBe('getLanding');
    expect(landing.security).toEqual([]);
    expect(resolve(landing.responses['200'].content['application/json'].schema).properties).toEqual(
      expect.objectContaining({ name: expect.any(Object), version: expect.any(Object), links: expect.any(Object) }),
    );
    expect(landing.responses['200'].content['text/html'].schema.type).toBe('string');

    // every reference resolves
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]);
    expect(refs.filter((r) => !schemas[r])).toEqual([]);

    expect(Object.keys(schemas.Problem.properties)).toEqual(expect.arrayContaining(['type', 'title', 'status', 'detail', 'code', 'errors', 'rule']));
    expect(Object.keys(schemas.CommandAnswer.properties).sort()).toEqual(['eventIds', 'position', 'revision']);
    expect(Object.keys(schemas.PlanAnswer.properties)).toEqual(expect.arrayContaining(['planId', 'eventIds', 'revision', 'position']));
    expect(Object.keys(schemas.ClaimApprovalAnswer.properties)).toEqual(expect.arrayContaining(['claimId', 'fee', 'ordinal', 'status', 'eventIds']));
    const renewal = doc.paths['/v1/plans/{planId}/renewals'].post;
    expect(Object.keys(renewal.responses)).toEqual(expect.arrayContaining(['200', '201', '400', '401', '403', '404', '409', '412', '413', '415', '422']));
    expect(renewal.parameters.map((p: any) => p.name)).toEqual(expect.arrayContaining(['Idempotency-Key', 'If-Match']));
    expect(doc.paths['/v1/plans/{planId}'].get.responses['200'].headers.ETag).toBeDefined();

    const entitlements = resolve(doc.paths['/v1/devices/{serial}/entitlements'].get.responses['200'].content['application/json'].schema);
    const fields = [
      'serial', 'model', 'region', 'at', 'knownAt', 'checkpoint', 'coverage', 'planId', 'policyVersion', 'chain', 'inheritedFrom',
      'transferredTo', 'replacement', 'warranty', 'safeUseReward', 'discountedRepairs', 'factoryMaintenance', 'renewal', 'carePlus',
      'conflicts', 'explanation',
    ];
    expect(Object.keys(entitlements.properties)).toEqual(expect.arrayContaining(fields));
    expect(entitlements.required).toEqual(expect.arrayContaining(fields.filter((f) => f !== 'explanation')));
    expect(entitlements.required).not.toContain('explanation');
    expect(entitlements.properties.coverage.enum).toEqual(['active', 'expired', 'none', 'pending', 'transferred']);
    expect(Object.keys(resolve(entitlements.properties.replacement).properties)).toEqual(
      expect.arrayContaining(['window', 'remaining', 'used', 'flyawayRemaining', 'nextFee']),
    );
    expect(Object.keys(resolve(entitlements.properties.warranty).properties)).toEqual(expect.arrayContaining(['official', 'coveredUntil', 'extensions']));

    const list = (path: string, key: string) => resolve(doc.paths[path].get.responses['200'].content['application/json'].schema).properties[key];
    expect(list('/v1/audit/events', 'nextCursor')).toBeDefined();
    expect(list('/v1/audit/decisions', 'items').type).toBe('array');
    expect(list('/v1/service-centers/{centerId}/claims', 'items').type).toBe('array');
    expect(list('/v1/devices/{serial}/history', 'events').type).toBe('array');
    expect(list('/v1/devices/{serial}/timeline', 'entries').type).toBe('array');

    expect(doc.paths['/health'].get.responses['200'].content['application/json'].schema.$ref).toBe('#/components/schemas/Health');
    expect(Object.keys(doc.paths['/metrics'].get.responses['200'].content)[0]).toMatch(/^text\/plain/);
  });

  test('the document it serves is the one the API tests validate answers against (the swagger plugin runs under jest as in nest build)', async () => {
    const built = (await (await fetch(`${base}/docs-json`)).json()) as any;
    const server = await TestServer.start();
    try {
      expect(server.contract.document).toEqual(built);
    } finally {
      await server.stop();
    }
  });

  test('SIGTERM shuts it down cleanly', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
