/**
 * Disputes over real HTTP on real stores (SQLite always, PostgreSQL where CARELEDGER_DATABASE_URL is
 * set): the correction preview equals what the correction then does (void an approval, amend a
 * claim's cause to an excluded one after fulfilment, amend a purchase date, void a renewal), and
 * appends nothing; the entitlement statement verifies with the public key alone (the library
 * function the CLI uses, and the CLI as a child process) and fails when one byte changes.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson } from '@careledger/event-store';
import { defaultCatalogue } from '@careledger/domain';
import { Statement, statementDigest, verifyStatement } from '@careledger/runtime';
import { testStores } from '@careledger/testing/stores';
import { Answer, scenario, TestServer } from './harness';

const ROOT = join(__dirname, '..', '..', '..');
const CLI = join(ROOT, 'apps', 'cli', 'src', 'main.ts');
const REGISTER = join(ROOT, 'libs', 'testing', 'register.js');
const catalogue = defaultCatalogue();

/** Runs the CLI as an operator would (TypeScript sources through the register hook), bounded in time. */
function careledger(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!/^(CARELEDGER_|EVENTSTORE_)/.test(k)) env[k] = v;
    const child = spawn(process.execPath, ['-r', REGISTER, CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`careledger ${args.join(' ')} did not finish in 20 s`));
    }, 20_000);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The value at a dotted path. */
function at(value: any, path: string): any {
  return path.split('.').reduce((v, k) => (v === null || v === undefined ? undefined : v[k]), value);
}

function setAt(value: any, path: string, to: unknown): void {
  const keys = path.split('.');
  let v = value;
  for (const k of keys.slice(0, -1)) v = v[k];
  v[keys[keys.length - 1]] = to;
}

const ok = (a: Answer, what: string) => {
  if (a.status !== 200 && a.status !== 201) throw new Error(`${what}: ${a.status} ${JSON.stringify(a.body)}`);
  return a.body;
};

describe.each(testStores('The dispute suite'))('disputes on %s', (_name, open) => {
  let server: TestServer;
  let s: ReturnType<typeof scenario>;
  let cleanup: () => Promise<void>;
  let publicKey: string;
  let work: string;

  beforeAll(async () => {
    const node = await open();
    cleanup = node.cleanup;
    server = await TestServer.start({}, { store: node.store });
    s = scenario(server);
    await s.center('SC-1', 'US');
    publicKey = ok(await server.get('/v1/audit/public-key', 'auditor'), 'public key').publicKey;
    work = mkdtempSync(join(tmpdir(), 'careledger-evidence-'));
  });
  afterAll(async () => {
    await server?.stop();
    await cleanup?.();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** A Mavic 3 (US) activated and covered by an online 1-Year plan bought at `bought`. */
  async function coveredUnit(serial: string, bought: string) {
    await s.activate(serial, 'Mavic 3', 'US', bought.replace('T09:', 'T08:'));
    return (await s.buy({ term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: bought, orderId: `O-${serial}`, serial })) as { planId: string; eventIds: string[] };
  }

  /** A damage claim opened, approved, paid and fulfilled at `when`: the event ids of each step. */
  async function fulfilled(serial: string, ref: string, when: string, replacement: string) {
    const opened = ok(await server.post('/v1/claims', 'sc1', { claimRef: ref, serial, kind: 'damage', cause: 'collision', incidentAt: when, openedAt: when, serviceCenterId: 'SC-1' }), 'open');
    const approval = ok(await server.post(`/v1/claims/${opened.claimId}/approval`, 'sc1', { at: when }), 'approve');
    const payment = ok(await server.post(`/v1/claims/${opened.claimId}/payment`, 'sc1', { at: when, ...approval.fee }), 'pay');
    const fulfilment = ok(await server.post(`/v1/claims/${opened.claimId}/fulfilment`, 'sc1', { at: when, replacementSerial: replacement }), 'fulfil');
    return { claimId: opened.claimId as string, opened: opened.eventIds[0] as string, approved: approval.eventIds[0] as string, paid: payment.eventIds[0] as string, fulfilled: fulfilment.eventIds[0] as string };
  }

  const view = async (serial: string, minPosition?: string) =>
    ok(await server.get(`/v1/devices/${serial}/entitlements${minPosition ? `?minPosition=${minPosition}` : ''}`, 'auditor'), `entitlements ${serial}`);
  const decisionCount = async () => ok(await server.get('/v1/audit/decisions?limit=1000', 'auditor'), 'decisions').items.length as number;

  /**
   * Previews a correction, checks that nothing moved, records it with the same Idempotency-Key and
   * checks that the preview said exactly what happened: per unit, the fields that changed (before
   * and after) and only those; and the conflicts that appeared.
   */
  async function previewThenRecord(body: Record<string, unknown>) {
    const key = randomUUID();
    const headBefore = await server.eventCount();
    const decisionsBefore = await decisionCount();
    const preview = await server.post('/v1/corrections/preview', 'admin', body, { 'idempotency-key': key });
    expect(preview.status).toBe(200);
    // nothing appended, nothing in the decision log
    expect(await server.eventCount()).toBe(headBefore);
    expect(await decisionCount()).toBe(decisionsBefore);
    const p = preview.body;
    expect(p.correction).toMatchObject({ position: String(headBefore + 1), targetEventId: body.eventId, action: body.action });

    const before = new Map<string, any>();
    for (const u of p.units) before.set(u.serial, await view(u.serial));
    const recorded = await server.post('/v1/corrections', 'admin', body, { 'idempotency-key': key });
    expect(recorded.status).toBe(201);
    // the preview named the event the correction got
    expect(recorded.body.eventIds[0]).toBe(p.correction.eventId);
    const newConflicts: any[] = [];
    const seen = new Set<string>();
    for (const u of p.units) {
      const v0 = before.get(u.serial);
      const v1 = await view(u.serial, recorded.body.position);
      for (const change of u.changes) {
        expect({ field: change.field, before: at(v0, change.field) ?? null }).toEqual({ field: change.field, before: change.before });
        expect({ field: change.field, after: at(v1, change.field) ?? null }).toEqual({ field: change.field, after: change.after });
      }
      // and nothing else changed
      const rest0 = structuredClone(v0);
      const rest1 = structuredClone(v1);
      for (const k of ['at', 'knownAt', 'checkpoint']) {
        delete rest0[k];
        delete rest1[k];
      }
      for (const change of u.changes) {
        setAt(rest0, change.field, '(changed)');
        setAt(rest1, change.field, '(changed)');
      }
      expect(canonicalJson(rest1)).toBe(canonicalJson(rest0));
      const known = new Set(v0.conflicts.map((c: unknown) => canonicalJson(c)));
      for (const c of v1.conflicts) {
        const k = canonicalJson(c);
        if (!known.has(k) && !seen.has(k)) {
          seen.add(k);
          newConflicts.push(c);
        }
      }
    }
    expect(p.conflicts).toEqual(newConflicts);
    return p;
  }

  const decisionOf = (p: any, eventId: string) => p.decisions.find((d: any) => d.eventId === eventId);

  test('void an approval after fulfilment: the payment and the fulfilment are turned, X2 flags the claim', async () => {
    await coveredUnit('VA-A', '2026-03-10T09:00:00-07:00');
    const claim = await fulfilled('VA-A', 'VA-C1', '2026-06-01T10:00:00-07:00', 'VA-B');
    const p = await previewThenRecord({ eventId: claim.approved, action: 'void', reason: 'approved by mistake' });
    expect(p.units.map((u: any) => u.serial)).toEqual(['VA-A', 'VA-B']);
    // the replacement keeps the plan; the holder's view now shows the conflict
    expect(p.units[1].changes.map((c: any) => c.field)).toContain('conflicts');
    expect(p.conflicts).toEqual([expect.objectContaining({ rule: 'X2', eventIds: expect.arrayContaining([claim.opened, claim.fulfilled, p.correction.eventId]) })]);
    expect(decisionOf(p, claim.approved)).toBeUndefined(); // the voided decision itself
    expect(decisionOf(p, claim.paid)).toMatchObject({ command: 'PayClaim', outcome: 'would-refuse', code: 'InvalidClaimState', rule: null });
    expect(decisionOf(p, claim.fulfilled)).toMatchObject({ command: 'FulfilClaim', outcome: 'would-refuse', code: 'InvalidClaimState' });
    expect(decisionOf(p, claim.opened)).toMatchObject({ command: 'OpenClaim', outcome: 'unchanged', code: null });
  });

  test('amend a claim\'s cause to an excluded one after fulfilment (X2): every step of the claim would be refused under R5', async () => {
    await coveredUnit('AC-A', '2026-03-10T09:00:00-07:00');
    const claim = await fulfilled('AC-A', 'AC-C1', '2026-06-01T10:00:00-07:00', 'AC-B');
    const p = await previewThenRecord({ eventId: claim.opened, action: 'amend', reason: 'the unit was lost, not dropped', amendment: { cause: 'loss' } });
    expect(p.conflicts).toEqual([expect.objectContaining({ rule: 'X2', detail: expect.stringContaining('Excluded (R5)') })]);
    expect(decisionOf(p, claim.opened)).toMatchObject({ outcome: 'would-refuse', code: 'Excluded', rule: 'R5' });
    expect(decisionOf(p, claim.approved)).toMatchObject({ outcome: 'would-refuse', code: 'Excluded', rule: 'R5', restsOn: null });
    expect(decisionOf(p, claim.paid)).toMatchObject({ outcome: 'would-refuse', code: 'Excluded', rule: 'R5', restsOn: claim.approved });
    expect(decisionOf(p, claim.fulfilled)).toMatchObject({ outcome: 'would-refuse', code: 'Excluded', rule: 'R5', restsOn: claim.paid });
    // the purchase is not touched
    expect(p.decisions.find((d: any) => d.command === 'PurchasePlan')).toMatchObject({ outcome: 'unchanged', code: null });
  });

  test('amend a purchase date: the windows move, coverage ends, a later claim would be refused (R2)', async () => {
    const plan = await coveredUnit('PD-A', '2026-03-10T09:00:00-07:00');
    const claim = await fulfilled('PD-A', 'PD-C1', '2026-11-20T10:00:00-08:00', 'PD-B');
    const p = await previewThenRecord({ eventId: plan.eventIds[0], action: 'amend', reason: 'the shop reported the wrong date', amendment: { purchasedAt: '2025-11-01T09:00:00-07:00' } });
    const holder = p.units.find((u: any) => u.serial === 'PD-B');
    const fields = holder.changes.map((c: any) => c.field);
    expect(fields).toEqual(expect.arrayContaining(['coverage', 'chain', 'renewal.eligible']));
    expect(holder.changes.find((c: any) => c.field === 'coverage')).toEqual({ field: 'coverage', before: 'active', after: 'expired' });
    expect(holder.changes.find((c: any) => c.field === 'chain').after).toEqual([{ kind: '1y', from: '2025-11-01', until: '2026-11-01' }]);
    expect(decisionOf(p, claim.opened)).toMatchObject({ outcome: 'would-refuse', code: 'OutsideValidity', rule: 'R2' });
    expect(decisionOf(p, claim.fulfilled)).toMatchObject({ outcome: 'would-refuse', code: 'OutsideValidity', rule: 'R2' });
    expect(p.conflicts).toEqual([expect.objectContaining({ rule: 'X2', detail: expect.stringContaining('OutsideValidity') })]);
  });

  test('void a renewal: the chain shrinks, a claim in the renewal term would be refused', async () => {
    const plan = await coveredUnit('VR-A', '2025-03-10T09:00:00-07:00');
    const renewal = ok(await server.post(`/v1/plans/${plan.planId}/renewals`, 'sales', { purchasedAt: '2026-03-01T10:00:00-08:00', orderId: 'VR-R1' }), 'renewal');
    const claim = await fulfilled('VR-A', 'VR-C1', '2026-07-01T10:00:00-07:00', 'VR-B');
    const p = await previewThenRecord({ eventId: renewal.eventIds[0], action: 'void', reason: 'the renewal was refunded' });
    const holder = p.units.find((u: any) => u.serial === 'VR-B');
    expect(holder.changes.find((c: any) => c.field === 'chain')).toMatchObject({ after: [{ kind: '1y', from: '2025-03-10', until: '2026-03-10' }] });
    expect(holder.changes.find((c: any) => c.field === 'coverage')).toEqual({ field: 'coverage', before: 'active', after: 'expired' });
    expect(decisionOf(p, renewal.eventIds[0])).toBeUndefined();
    expect(decisionOf(p, claim.opened)).toMatchObject({ outcome: 'would-refuse', code: 'OutsideValidity', rule: 'R2' });
    expect(p.conflicts.map((c: any) => c.rule)).toEqual(['X2']);
  });

  test('amend a device fact (its activation): the purchase would be refused under P4; a service center\'s facts touch no unit', async () => {
    await s.activate('AD-A', 'Mavic 3', 'US', '2026-03-10T08:00:00-07:00');
    const activation = ok(await server.get('/v1/devices/AD-A/history', 'auditor'), 'history').events[0];
    const plan = (await s.buy({ term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2026-03-10T09:00:00-07:00', orderId: 'O-AD-A', serial: 'AD-A' })) as { eventIds: string[] };
    const p = await previewThenRecord({ eventId: activation.eventId, action: 'amend', reason: 'activated days earlier', amendment: { activatedAt: '2026-03-01T08:00:00-08:00' } });
    expect(p.units.map((u: any) => u.serial)).toEqual(['AD-A']);
    expect(p.units[0].changes).toEqual(expect.arrayContaining([{ field: 'warranty.official', before: { from: '2026-03-10', until: '2027-03-10' }, after: { from: '2026-03-01', until: '2027-03-01' } }]));
    expect(decisionOf(p, plan.eventIds[0])).toMatchObject({ command: 'PurchasePlan', outcome: 'would-refuse', code: 'PurchaseWindowClosed', rule: 'P4' });
    // the directory of service centers: a claim keeps the region it was opened with
    const center = ok(await server.put('/v1/service-centers/SC-9', 'admin', { name: 'Center 9', region: 'US' }), 'center');
    const q = await previewThenRecord({ eventId: center.eventIds[0], action: 'amend', reason: 'moved', amendment: { region: 'CA' } });
    expect(q).toMatchObject({ units: [], decisions: [], conflicts: [] });
  });

  test('a preview answers what the correction would answer (400, 404, 409, 422), records nothing, and is for admin and auditor only', async () => {
    const plan = await coveredUnit('PR-A', '2026-03-10T09:00:00-07:00');
    const head = await server.eventCount();
    const decisions = await decisionCount();
    const bodies: [Record<string, unknown>, number, string][] = [
      [{ eventId: 'no-such-event', action: 'void', reason: 'x' }, 404, 'EventNotFound'],
      [{ eventId: plan.eventIds[0], action: 'amend', reason: 'x', amendment: { orderId: 'other' } }, 400, 'ValidationFailed'],
      [{ eventId: plan.eventIds[0], action: 'void', reason: 'x', extra: 1 }, 400, 'ValidationFailed'],
      // the unit's binding follows its plan event: not correctable (X1)
      [{ eventId: plan.eventIds[1], action: 'void', reason: 'x' }, 422, 'NotCorrectable'],
    ];
    for (const [body, status, code] of bodies) {
      const preview = await server.post('/v1/corrections/preview', 'admin', body);
      expect({ status: preview.status, code: preview.body.code, type: preview.headers.get('content-type') }).toEqual({ status, code, type: expect.stringContaining('application/problem+json') });
    }
    expect((await server.post('/v1/corrections/preview', 'admin', { eventId: plan.eventIds[1], action: 'void', reason: 'x' })).body.rule).toBe('X1');
    expect(await server.eventCount()).toBe(head);
    expect(await decisionCount()).toBe(decisions);
    // the same refusal from the real route is recorded in the decision log (the preview's is not)
    const real = await server.post('/v1/corrections', 'admin', { eventId: plan.eventIds[1], action: 'void', reason: 'x' });
    expect([real.status, real.body.code]).toEqual([422, 'NotCorrectable']);
    expect(await decisionCount()).toBe(decisions + 1);
    // 409 after a void
    const renewal = ok(await server.post(`/v1/plans/${plan.planId}/renewals`, 'sales', { purchasedAt: '2026-11-01T10:00:00-07:00', orderId: 'PR-R1' }), 'renewal');
    ok(await server.post('/v1/corrections', 'admin', { eventId: renewal.eventIds[0], action: 'void', reason: 'refunded' }), 'void');
    const again = await server.post('/v1/corrections/preview', 'auditor', { eventId: renewal.eventIds[0], action: 'void', reason: 'again' });
    expect([again.status, again.body.code]).toEqual([409, 'AlreadyVoided']);
    // roles: auditor yes (above), sales and service centers no
    expect((await server.post('/v1/corrections/preview', 'sales', { eventId: plan.eventIds[0], action: 'void', reason: 'x' })).status).toBe(403);
    expect((await server.post('/v1/corrections/preview', 'sc1', { eventId: plan.eventIds[0], action: 'void', reason: 'x' })).status).toBe(403);
    expect((await server.post('/v1/corrections/preview', null, { eventId: plan.eventIds[0], action: 'void', reason: 'x' })).status).toBe(401);
  });

  // ------------------------------------------------------------------------------ statements

  async function statementOf(serial: string, query = ''): Promise<Statement> {
    const answer = await server.get(`/v1/devices/${serial}/statement${query}`, 'sc1', { accept: 'application/json' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('application/json');
    return answer.body;
  }

  test('a statement\'s JSON verifies with the public key alone, through the library and the CLI', async () => {
    await coveredUnit('ST-A', '2026-03-10T09:00:00-07:00');
    const claim = await fulfilled('ST-A', 'ST-C1', '2026-06-01T10:00:00-07:00', 'ST-B');
    const statement = await statementOf('ST-B', '?at=2026-07-01');
    expect(statement).toMatchObject({ format: 'careledger-statement/v1', serial: 'ST-B', view: { serial: 'ST-B', coverage: 'active', inheritedFrom: ['ST-A'] } });
    expect(statement.units.map((u) => [u.serial, u.via])).toEqual([['ST-A', 'purchase'], ['ST-B', 'replacement']]);
    expect(statement.integrity.chain).toBe('global');
    // every event the view names is included, with its hash and what it covers
    const ids = new Set(statement.events.map((e) => e.eventId));
    for (const id of [claim.opened, claim.approved, claim.paid, claim.fulfilled]) expect(ids.has(id)).toBe(true);
    const last = statement.events[statement.events.length - 1];
    expect(BigInt(statement.integrity.checkpoint.position)).toBeGreaterThanOrEqual(BigInt(last.position));
    // the explanations are sentences with rule titles and the facts behind them
    const remaining = statement.explanations.find((l) => l.field === 'replacement.remaining')!;
    expect(remaining.text).toMatch(/1 replacement left in this term/);
    expect(remaining.rules).toEqual(expect.arrayContaining([{ id: 'R1', title: 'Replacement quotas' }]));
    expect(remaining.facts).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'ClaimApproved', businessTime: '2026-06-01T10:00:00-07:00' })]));

    // the library function the CLI uses
    const result = verifyStatement(statement, { publicKeys: publicKey, catalogue });
    expect(result).toMatchObject({ ok: true, reason: null, key: { source: 'given' } });
    expect(result.checks.map((c) => c.name)).toEqual(['format', 'key', 'event hashes', 'checkpoint', 'attestation', 'view']);

    // the CLI as a child process
    const file = join(work, 'statement.json');
    const keyFile = join(work, 'key.pem');
    writeFileSync(file, JSON.stringify(statement, null, 2));
    writeFileSync(keyFile, publicKey);
    const ran = await careledger(['verify-statement', file, '--public-key', keyFile]);
    expect({ code: ran.code, stderr: ran.stderr }).toEqual({ code: 0, stderr: '' });
    expect(ran.stdout).toMatch(new RegExp(`^verified: the statement of ST-B at 2026-07-01T00:00:00.000-07:00, known at .*: ${statement.events.length} events, covered by checkpoint ${statement.integrity.checkpoint.position}`));

    // without a key: a usage error; with the embedded key: verified, with a clear warning
    const noKey = await careledger(['verify-statement', file]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/--public-key FILE is required: a statement's own key proves nothing/);
    const embedded = await careledger(['verify-statement', file, '--embedded-key']);
    expect(embedded.code).toBe(0);
    expect(embedded.stderr).toMatch(/WARNING: checked with the key embedded in the statement itself\. This proves only that the statement is internally consistent/);
    const missing = await careledger(['verify-statement', join(work, 'nope.json'), '--public-key', keyFile]);
    expect(missing.code).toBe(2);
  });

  test('a statement fails to verify when one byte of an event changes, when the attestation or checkpoint is tampered, or with another key', async () => {
    await coveredUnit('TM-A', '2026-03-10T09:00:00-07:00');
    await fulfilled('TM-A', 'TM-C1', '2026-06-01T10:00:00-07:00', 'TM-B');
    const original = await statementOf('TM-A');
    expect(verifyStatement(original, { publicKeys: publicKey, catalogue }).ok).toBe(true);
    const text = JSON.stringify(original);
    const tampered = (change: (s: any) => void) => {
      const copy = JSON.parse(text);
      change(copy);
      return verifyStatement(copy, { publicKeys: publicKey, catalogue });
    };
    const purchase = original.events.findIndex((e) => e.type === 'PlanPurchased');
    const cases: [string, (s: any) => void, RegExp][] = [
      ['data', (s) => (s.events[purchase].data.purchasedAt = s.events[purchase].data.purchasedAt.replace('T09:', 'T08:')), /does not match its hash/],
      ['data (one byte of the model)', (s) => (s.events[purchase].data.model = 'Mavic 4'), /does not match its hash/],
      ['metadata', (s) => (s.events[purchase].metadata.actor = `${s.events[purchase].metadata.actor}x`), /does not match its hash/],
      ['type', (s) => (s.events[purchase].type = 'PlanRenewed'), /does not match its hash/],
      ['position', (s) => (s.events[purchase].position = String(BigInt(s.events[purchase].position) + 1n)), /does not match its hash|not in log order/],
      ['an event left out', (s) => s.events.splice(purchase, 1), /changed after it was attested/],
      ['the view', (s) => (s.view.replacement.remaining = 2), /changed after it was attested/],
      ['the attestation signature', (s) => (s.attestation.signature = Buffer.from('x'.repeat(64)).toString('base64')), /attestation's signature does not verify/],
      ['the attestation digest', (s) => (s.attestation.digest = 'a'.repeat(64)), /changed after it was attested/],
      ['the checkpoint position', (s) => (s.integrity.checkpoint.position = String(BigInt(s.integrity.checkpoint.position) + 5n)), /checkpoint's signature .* does not verify/],
      ['the checkpoint hash', (s) => (s.integrity.checkpoint.hash = 'b'.repeat(64)), /checkpoint's signature .* does not verify/],
    ];
    for (const [what, change, reason] of cases) {
      const result = tampered(change);
      expect({ what, ok: result.ok, reason: result.reason }).toEqual({ what, ok: false, reason: expect.stringMatching(reason) });
    }
    // another key
    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(verifyStatement(original, { publicKeys: other, catalogue })).toMatchObject({ ok: false, reason: expect.stringMatching(/attested by key .*, not by the key given/) });

    // the CLI says the first reason and exits 1
    const file = join(work, 'tampered.json');
    const keyFile = join(work, 'key.pem');
    const otherFile = join(work, 'other.pem');
    writeFileSync(keyFile, publicKey);
    writeFileSync(otherFile, other);
    const copy = JSON.parse(text);
    copy.events[purchase].data.model = 'Mavic 4';
    writeFileSync(file, JSON.stringify(copy));
    const ran = await careledger(['verify-statement', file, '--public-key', keyFile]);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toMatch(/^careledger verify-statement: NOT VERIFIED: the event at position \d+ \(PlanPurchased\) does not match its hash/);
    writeFileSync(file, text);
    const wrongKey = await careledger(['verify-statement', file, '--public-key', otherFile]);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(/NOT VERIFIED: the statement is attested by key/);
  });

  test('a statement as known at an earlier instant rests only on the events recorded by then, after a correction too', async () => {
    const plan = await coveredUnit('KA-A', '2026-03-10T09:00:00-07:00');
    const knownAt = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    ok(await server.post('/v1/corrections', 'admin', { eventId: plan.eventIds[0], action: 'amend', reason: 'date', amendment: { purchasedAt: '2026-03-12T09:00:00-07:00' } }), 'amend');
    const then = await statementOf('KA-A', `?knownAt=${encodeURIComponent(knownAt)}`);
    const now = await statementOf('KA-A');
    expect(then.events.every((e) => Date.parse(e.recordedAt) <= Date.parse(knownAt))).toBe(true);
    expect(now.events.length).toBe(then.events.length + 1);
    expect(then.view.chain[0].from).toBe('2026-03-10');
    expect(now.view.chain[0].from).toBe('2026-03-12');
    expect(now.explanations.find((l) => l.field === 'corrections')).toBeDefined();
    for (const st of [then, now]) expect(verifyStatement(st, { publicKeys: publicKey, catalogue })).toMatchObject({ ok: true });
    // the digest is over the whole document
    expect(statementDigest(now as unknown as Record<string, unknown>)).toBe(now.attestation.digest);
  });

  test('the statement page: printable HTML under a CSP that allows only its own style; 404, 406 and roles', async () => {
    await coveredUnit('HT-A', '2026-03-10T09:00:00-07:00');
    const page = await server.get('/v1/devices/HT-A/statement', 'sales', { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; /);
    expect(csp).not.toMatch(/unsafe-inline|script-src 'self'/);
    const html = page.body as string;
    expect(html).toContain('Entitlement statement');
    expect(html).toContain('HT-A');
    expect(html).toContain('Replacement quotas');
    expect(html).toMatch(/@media print/);
    // nothing from outside: no script, no external stylesheet, font or image
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    // the one stylesheet is the one the CSP allows
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1];
    const { createHash } = await import('node:crypto');
    expect(csp).toContain(`'sha256-${createHash('sha256').update(style, 'utf8').digest('base64')}'`);
    expect(page.headers.get('vary')).toMatch(/Accept/);
    // JSON by default; neither JSON nor HTML: 406
    expect((await server.get('/v1/devices/HT-A/statement', 'registry')).body.format).toBe('careledger-statement/v1');
    const csv = await server.get('/v1/devices/HT-A/statement', 'auditor', { accept: 'text/csv' });
    expect([csv.status, csv.body.code]).toEqual([406, 'NotAcceptable']);
    const unknown = await server.get('/v1/devices/NO-SUCH/statement', 'auditor');
    expect([unknown.status, unknown.body.code]).toEqual([404, 'DeviceNotFound']);
    const bad = await server.get('/v1/devices/HT-A/statement?knownAt=yesterday', 'auditor');
    expect([bad.status, bad.body.code]).toEqual([400, 'ValidationFailed']);
    expect((await server.get('/v1/devices/HT-A/statement', null)).status).toBe(401);
  });

  test('a service center gets no statement that rests on another center\'s claims (it is withheld whole, not redacted); an auditor does', async () => {
    await coveredUnit('ST-W', '2026-03-10T09:00:00-07:00');
    ok(await server.post('/v1/claims', 'sc2', { claimRef: 'SC2-SECRET-REF', serial: 'ST-W', kind: 'damage', cause: 'collision', incidentAt: '2026-05-01T10:00:00-07:00', openedAt: '2026-05-01T10:00:00-07:00', serviceCenterId: 'SC-2' }), 'open');
    const withheld = await server.get('/v1/devices/ST-W/statement', 'sc1', { accept: 'application/json' });
    expectProblemCode(withheld, 403, 'StatementIncludesOtherCenters');
    expect(JSON.stringify(withheld.body)).not.toContain('SC2-SECRET-REF');
    expect((await server.get('/v1/devices/ST-W/statement', 'sc1', { accept: 'text/html' })).status).toBe(403);
    // the center whose claim it is, and the auditor, get it
    expect((await server.get('/v1/devices/ST-W/statement', 'sc2', { accept: 'application/json' })).status).toBe(200);
    const audited = await server.get('/v1/devices/ST-W/statement', 'auditor', { accept: 'application/json' });
    expect(audited.status).toBe(200);
    expect(JSON.stringify(audited.body)).toContain('SC2-SECRET-REF');
  });

  test('every answer of this suite was checked against the OpenAPI document', () => {
    const seen = new Set(server.contract.seen.map(({ operation, status }) => `${operation} ${status}`));
    for (const answer of [
      'previewCorrection 200', 'previewCorrection 400', 'previewCorrection 401', 'previewCorrection 403', 'previewCorrection 404', 'previewCorrection 409', 'previewCorrection 422',
      'getStatement 200', 'getStatement 400', 'getStatement 401', 'getStatement 404', 'getStatement 406',
    ]) expect(seen).toContain(answer);
  });
});

function expectProblemCode(answer: { status: number; body: { code?: string; status?: number } }, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(answer.body).toMatchObject({ status, code });
}
