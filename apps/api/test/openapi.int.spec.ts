/**
 * Issue 10 item 4: the OpenAPI document, generated from the DTO and answer classes by the swagger
 * plugin, is what clients need and valid under Redocly's recommended rules; and the contract check
 * every API test runs (contract.ts) can fail.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestServer } from './harness';

type Doc = any;

function lint(doc: Doc): Promise<{ rule: string; severity: string; message: string; at: string }[]> {
  const dir = mkdtempSync(join(tmpdir(), 'careledger-openapi-'));
  const file = join(dir, 'openapi.json');
  writeFileSync(file, JSON.stringify(doc));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(__dirname, 'redocly-lint.mjs'), file], { timeout: 60_000 }, (error, stdout, stderr) => {
      rmSync(dir, { recursive: true, force: true });
      if (error) reject(new Error(`redocly-lint failed: ${stderr || error.message}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

/** Every operation of the document, with its method and path. */
function operations(doc: Doc): { method: string; path: string; op: any }[] {
  return Object.entries<any>(doc.paths).flatMap(([path, item]) => Object.entries<any>(item).map(([method, op]) => ({ method, path, op })));
}

/** Every schema node reachable in the document, with where it is. */
function schemaNodes(doc: Doc): { at: string; name: string; schema: any }[] {
  const out: { at: string; name: string; schema: any }[] = [];
  const visit = (schema: any, at: string, name: string) => {
    if (!schema || typeof schema !== 'object') return;
    out.push({ at, name, schema });
    for (const [key, value] of Object.entries<any>(schema.properties ?? {})) visit(value, `${at}.${key}`, key);
    if (schema.items) visit(schema.items, `${at}[]`, name);
    for (const k of ['allOf', 'oneOf', 'anyOf']) (schema[k] ?? []).forEach((s: any, i: number) => visit(s, `${at}.${k}[${i}]`, name));
  };
  for (const [name, schema] of Object.entries<any>(doc.components.schemas)) visit(schema, name, name);
  for (const { method, path, op } of operations(doc)) for (const p of op.parameters ?? []) visit(p.schema, `${method} ${path} ?${p.name}`, p.name);
  return out;
}

describe('the OpenAPI document (issue 10, item 4)', () => {
  let server: TestServer;
  let doc: Doc;

  beforeAll(async () => {
    server = await TestServer.start();
    doc = server.contract.document;
  });
  afterAll(() => server.stop());

  test('is valid under Redocly\'s recommended rules: no error, and no warning but the accepted ones', async () => {
    const problems = await lint(doc);
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
    const accepted = (p: { rule: string; at: string }) =>
      // a private product: no license to name
      p.rule === 'info-license' ||
      // the probes answer 200 or 503 and nothing else; GET / (the landing answer) takes no input and answers 200
      (p.rule === 'operation-4xx-response' && (/^#\/paths\/~1health/.test(p.at) || p.at === '#/paths/~1/get/responses')) ||
      // the shape every command answer extends, kept as a component of its own for readers
      (p.rule === 'no-unused-components' && p.at === '#/components/schemas/CommandAnswer');
    expect(problems.filter((p) => !accepted(p))).toEqual([]);
  }, 60_000);

  test('every request body is strict: additionalProperties false, nested ones too', () => {
    const bodies = operations(doc).filter(({ op }) => op.requestBody);
    expect(bodies.length).toBeGreaterThanOrEqual(18);
    const refs = new Set<string>();
    const collect = (schema: any) => {
      if (!schema) return;
      if (schema.$ref) {
        const name = schema.$ref.split('/').pop();
        if (refs.has(name)) return;
        refs.add(name);
        collect(doc.components.schemas[name]);
      }
      Object.values<any>(schema.properties ?? {}).forEach(collect);
      (schema.allOf ?? []).forEach(collect);
      if (schema.items) collect(schema.items);
    };
    for (const { op } of bodies) {
      const schema = op.requestBody.content['application/json'].schema;
      if (!schema.$ref) expect(schema).toMatchObject({ type: 'object', additionalProperties: false });
      collect(schema);
    }
    expect(refs.size).toBeGreaterThanOrEqual(17);
    for (const name of refs) expect([name, doc.components.schemas[name].additionalProperties]).toEqual([name, false]);
  });

  test('every instant is format date-time and every date format date, each with an example', () => {
    const nodes = schemaNodes(doc).filter(({ schema }) => schema.type === 'string' || schema.format);
    const instantName = /(^at$|At$|^deadline$|^knownAt$|^recordedFrom$|^recordedTo$)/;
    const dateName = /^(from|until|effectiveDate|coveredUntil|to)$/;
    const wrong: string[] = [];
    for (const { at, name, schema } of nodes) {
      if (schema.format === 'date-time' || schema.format === 'date') {
        if (schema.example === undefined) wrong.push(`${at}: ${schema.format} without an example`);
      } else if (instantName.test(name) && !at.includes('?at')) wrong.push(`${at}: an instant without format date-time`);
      else if (dateName.test(name)) wrong.push(`${at}: a date without format date`);
    }
    expect(wrong).toEqual([]);
    expect(doc.components.schemas.PurchaseDto.properties.purchasedAt).toMatchObject({ type: 'string', format: 'date-time', example: '2024-03-10T14:22:00-07:00' });
    expect(doc.components.schemas.Window.properties.from).toMatchObject({ type: 'string', format: 'date', example: '2024-03-10' });
    expect(nodes.filter(({ schema }) => schema.format === 'date-time').length).toBeGreaterThan(40);
  });

  test('the bearer scheme is an opaque token, required everywhere but on the public routes (security: [])', () => {
    expect(doc.components.securitySchemes).toEqual({ bearer: { type: 'http', scheme: 'bearer', description: expect.stringContaining('opaque') } });
    expect(doc.security).toEqual([{ bearer: [] }]);
    const open = operations(doc).filter(({ op }) => Array.isArray(op.security) && op.security.length === 0).map(({ method, path }) => `${method} ${path}`);
    expect(open.sort()).toEqual(['get /', 'get /health', 'get /health/live', 'get /health/ready']);
    for (const { op } of operations(doc)) expect(op['x-public']).toBeUndefined();
    expect(doc.paths['/metrics'].get.security).toBeUndefined();
  });

  test('operation ids are readable verbs, one per operation', () => {
    const ids = operations(doc).map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z]+[A-Z][A-Za-z]+$/);
    const id = (method: string, path: string) => doc.paths[path][method].operationId;
    expect(id('post', '/v1/claims/{claimId}/approval')).toBe('approveClaim');
    expect(id('get', '/v1/plans/{planId}')).toBe('getPlan');
    expect(id('post', '/v1/plans')).toBe('purchasePlan');
    expect(id('get', '/v1/devices/{serial}/entitlements')).toBe('getEntitlements');
    expect(id('get', '/v1/audit/decisions')).toBe('listDecisions');
    expect(id('post', '/v1/admin/sweeps')).toBe('runSweep');
    expect(id('post', '/v1/corrections/preview')).toBe('previewCorrection');
    expect(id('get', '/v1/devices/{serial}/statement')).toBe('getStatement');
    expect(id('get', '/v1/feed')).toBe('readFeed');
    expect(id('put', '/v1/webhooks/{webhookId}')).toBe('putWebhook');
    expect(id('get', '/v1/webhooks/{webhookId}/deliveries')).toBe('listDeliveries');
  });

  test('a command\'s body carries no credential: what a refused command is recorded with never holds a secret', () => {
    // a refusal keeps the command's fields in the decision log (README): a secret must not travel in a command
    const commands = operations(doc).filter(({ op }) => op.responses['422']);
    expect(commands.length).toBeGreaterThanOrEqual(17);
    const fields = (schema: any, seen = new Set<string>()): string[] => {
      if (!schema) return [];
      if (schema.$ref) {
        const name = schema.$ref.split('/').pop();
        if (seen.has(name)) return [];
        seen.add(name);
        return fields(doc.components.schemas[name], seen);
      }
      return [
        ...Object.entries<any>(schema.properties ?? {}).flatMap(([k, v]) => [k, ...fields(v, seen)]),
        ...(schema.allOf ?? []).flatMap((s: any) => fields(s, seen)),
      ];
    };
    for (const { method, path, op } of commands) {
      const names = fields(op.requestBody?.content?.['application/json']?.schema);
      expect([`${method} ${path}`, names.filter((n) => /secret|token|password|credential|apikey|signature/i.test(n))]).toEqual([`${method} ${path}`, []]);
    }
  });

  test('the contract check fails on an answer that does not match: a wrong type, a missing field, a field the document does not name', () => {
    const me = { role: 'auditor', roleText: 'auditor', actor: 'auditor', centerId: null };
    expect(server.contract.check('GET', '/v1/me', 200, 'application/json; charset=utf-8', me)).toBeNull();
    expect(server.contract.check('GET', '/v1/me', 200, 'application/json', { ...me, centerId: 7 })).toContain('/centerId must be string');
    expect(server.contract.check('GET', '/v1/me', 200, 'application/json', { role: 'auditor' })).toContain("must have required property 'roleText'");
    expect(server.contract.check('GET', '/v1/me', 200, 'application/json', { ...me, extra: 1 })).toContain('must NOT have additional properties (extra)');
    expect(server.contract.check('GET', '/v1/me', 200, 'text/html', '<p>')).toContain('answered text/html');
    expect(server.contract.check('GET', '/v1/me', 500, 'application/problem+json', { status: 500 })).toContain('does not match');
    const instant = { eventId: 'e', type: 't', streamId: 's', revision: 0, position: '1', occurredAt: '2024-03-10T14:22-07:00', recordedAt: 'yesterday', actor: 'a', correlationId: 'c', causationId: null, data: {} };
    expect(server.contract.check('GET', '/v1/devices/X/history', 200, 'application/json', { serial: 'X', checkpoint: '1', events: [instant] })).toContain('/events/0/recordedAt must match format "date-time"');
    // what an answer carries inside another media type: each message of the feed's event stream is a FeedEventView
    const event = { ...instant, recordedAt: '2024-03-10T14:22:00.123Z', hash: null };
    expect(server.contract.check('GET', '/v1/feed', 200, 'text/event-stream; charset=utf-8', null)).toBeNull();
    expect(server.contract.checkSchema('FeedEventView', event)).toBeNull();
    expect(server.contract.checkSchema('FeedEventView', { ...event, extra: 1 })).toContain('must NOT have additional properties (extra)');
    expect(server.contract.checkSchema('FeedEventView', { ...event, occurredAt: 'soon' })).toContain('/occurredAt must match format "date-time"');
    expect(server.contract.checkSchema('NoSuchSchema', event)).toContain('no schema NoSuchSchema');
    // paths the document does not have are not checked
    expect(server.contract.check('GET', '/dashboard', 200, 'text/html', '<html>')).toBeNull();
  });

  test('the answers of this suite were checked too', async () => {
    const before = server.contract.seen.length;
    await server.get('/v1/me', 'auditor');
    await server.get('/v1/plans/NOPE', 'auditor');
    expect(server.contract.seen.slice(before)).toEqual([
      { operation: 'getMe', status: 200 },
      { operation: 'getPlan', status: 404 },
    ]);
  });
});
