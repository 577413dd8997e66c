/**
 * GET /metrics after a scenario, read with a strict exposition-format parser (prometheus.ts): the
 * business counters (claims by outcome, replacements, refusals by code and rule, sweep grants by
 * kind) equal what the audit log says, conflicts (409/412) are counted by code, the build info names
 * what runs, Node.js process metrics carry their stock names, no gauge ends in _total, and the
 * projection lag of an idle, caught-up node is 0. A second node on the same log, started afterwards
 * (as a restarted node would), reports the same business totals.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appVersion } from '../src/http/build-info';
import { LedgerTally, TallySink } from '../src/http/ledger-tally';
import { RuntimeQueries } from '../src/ports/runtime-ports';
import { scenario, TestServer } from './harness';
import { Family, parseExposition, valueOf } from './prometheus';

const AT = '2024-05-01T10:00:00-07:00';

describe('GET /metrics', () => {
  let dir: string;
  let db: string;
  let a: TestServer;
  let b: TestServer | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'careledger-metrics-'));
    db = join(dir, 'ledger.sqlite');
    a = await TestServer.start({ CARELEDGER_DB: db, CARELEDGER_READ_DB: join(dir, 'a.read.sqlite') });
  });

  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function scrape(server: TestServer): Promise<Map<string, Family>> {
    const answer = await server.get<string>('/metrics', 'auditor');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    // not-a-number, when a value is one, in the spelling every parser reads (prom-client writes Nan)
    expect(answer.body).not.toMatch(/ Nan$/m);
    return parseExposition(answer.body);
  }

  /** Every refusal of the decision log, by code and rule; every sweep grant of the event log, by kind. */
  async function fromAudit(server: TestServer) {
    const refusals = new Map<string, number>();
    let cursor: string | null = null;
    do {
      const page: { body: { items: { code: string; rule: string | null }[]; nextCursor: string | null } } = await server.get(`/v1/audit/decisions?outcome=refused&limit=2${cursor ? `&cursor=${cursor}` : ''}`, 'auditor');
      for (const d of page.body.items) refusals.set(`${d.code}|${d.rule ?? ''}`, (refusals.get(`${d.code}|${d.rule ?? ''}`) ?? 0) + 1);
      cursor = page.body.nextCursor;
    } while (cursor);
    const grants = new Map<string, number>();
    const events = await server.get('/v1/audit/events?type=WarrantyExtensionGranted&actor=system:sweep&limit=1000', 'auditor');
    for (const e of events.body.items as { data: { kind: string } }[]) grants.set(e.data.kind, (grants.get(e.data.kind) ?? 0) + 1);
    return { refusals, grants };
  }

  function business(families: Map<string, Family>) {
    const byLabels = (name: string, label: string) =>
      Object.fromEntries((families.get(name)?.samples ?? []).map((s) => [s.labels[label], s.value]));
    return {
      claims: byLabels('careledger_claims_total', 'outcome'),
      replacements: valueOf(families, 'careledger_replacements_issued_total'),
      refusals: Object.fromEntries((families.get('careledger_refusals_total')?.samples ?? []).map((s) => [`${s.labels.code}|${s.labels.rule}`, s.value])),
      sweepGrants: byLabels('careledger_sweep_grants_total', 'kind'),
    };
  }

  test('counts claims by outcome, replacements, refusals, sweep grants and conflicts; stock process metrics; build info; lag 0 when idle', async () => {
    const s = scenario(a);
    await s.center('SC-1', 'US');
    for (const unit of ['M-A', 'M-B', 'M-C']) {
      await s.buy({ term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-03-10T09:00:00-07:00', orderId: `O-${unit}`, serial: unit });
    }
    // a 2-year plan: the sweep grants its plan year 2
    await s.buy({ term: '2y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-03-10T09:00:00-07:00', orderId: 'O-2Y', serial: 'M-2Y' });

    await s.replace('M-A', 'MC-1', AT, 'M-A2');
    const denied = await s.open({ claimRef: 'MC-2', serial: 'M-B', incidentAt: AT, openedAt: AT });
    expect((await a.post(`/v1/claims/${denied.body.claimId}/denial`, 'sc1', { at: AT, reason: 'not covered damage' })).status).toBe(201);
    const cancelled = await s.open({ claimRef: 'MC-3', serial: 'M-C', incidentAt: AT, openedAt: AT });
    expect((await a.post(`/v1/claims/${cancelled.body.claimId}/cancellation`, 'sc1', { at: AT, reason: 'customer withdrew' })).status).toBe(201);

    // refusals: a claim on a unit without a plan, twice; a renewal after its window closed
    const uncovered = await s.open({ claimRef: 'MC-4', serial: 'NO-PLAN', incidentAt: AT, openedAt: AT });
    expect(uncovered.status).toBe(422);
    expect((await s.open({ claimRef: 'MC-5', serial: 'NO-PLAN', incidentAt: AT, openedAt: AT })).status).toBe(422);
    const plan2y = (await a.get('/v1/audit/events?type=PlanPurchased&serial=M-2Y', 'auditor')).body.items[0].data.planId as string;
    const planC = (await a.get('/v1/audit/events?type=PlanPurchased&serial=M-C', 'auditor')).body.items[0].data.planId as string;
    const renewal = await a.post(`/v1/plans/${planC}/renewals`, 'sales', { purchasedAt: '2025-03-25T00:00-07:00', orderId: 'R-C' });
    expect(renewal.body).toMatchObject({ status: 422, code: 'RenewalWindowClosed' });

    // conflicts: an Idempotency-Key reused with another body (409), a stale If-Match (412)
    const key = { 'Idempotency-Key': 'metrics-key-1' };
    expect((await a.post('/v1/devices/K-1/activation', 'registry', { model: 'Mavic 3', region: 'US', activatedAt: AT }, key)).status).toBe(201);
    expect((await a.post('/v1/devices/K-1/activation', 'registry', { model: 'Mavic 3', region: 'EU', activatedAt: AT }, key)).body.code).toBe('IdempotencyKeyReused');
    const stale = await a.post(`/v1/plans/${plan2y}/renewals`, 'sales', { purchasedAt: '2025-03-01T10:00:00-08:00', orderId: 'R-2Y-b' }, { 'If-Match': '"99"' });
    expect(stale.status).toBe(412);

    const sweep = await a.post('/v1/admin/sweeps', 'admin');
    expect(sweep.status).toBe(200);
    expect(sweep.body.granted).toBeGreaterThan(0);

    // idle and caught up
    await waitUntilIdle(a);
    const families = await scrape(a);
    const audit = await fromAudit(a);

    expect(business(families)).toEqual({
      claims: { opened: 3, approved: 1, denied: 1, paid: 1, fulfilled: 1, cancelled: 1 },
      replacements: 1,
      refusals: Object.fromEntries(audit.refusals),
      sweepGrants: Object.fromEntries(audit.grants),
    });
    expect(audit.refusals.get(`${uncovered.body.code}|${uncovered.body.rule}`)).toBe(2);
    expect(audit.refusals.get(`${renewal.body.code}|${renewal.body.rule}`)).toBe(1);
    expect([...audit.grants.values()].reduce((x, y) => x + y, 0)).toBe(sweep.body.granted);
    expect(valueOf(families, 'careledger_business_metrics_position')).toBe(await a.eventCount());

    expect(valueOf(families, 'careledger_conflicts_total', { status: '409', code: 'IdempotencyKeyReused' })).toBe(1);
    expect(valueOf(families, 'careledger_conflicts_total', { status: '412', code: 'ConcurrencyConflict' })).toBe(1);

    const health = (await a.get('/health', null)).body;
    expect(families.get('careledger_build_info')!.samples).toEqual([
      { name: 'careledger_build_info', labels: { version: appVersion(), node_version: process.version, store: 'sqlite', catalogue: health.catalogue }, value: 1 },
    ]);
    expect(appVersion()).toMatch(/^\d+\.\d+\.\d+/);

    // stock Node.js names, no custom prefix; only counters end in _total (the parser refuses a gauge that does)
    for (const name of ['process_cpu_seconds_total', 'process_start_time_seconds', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_version_info']) {
      expect(families.has(name)).toBe(true);
    }
    expect(families.get('process_cpu_seconds_total')!.type).toBe('counter');
    expect([...families.keys()].filter((n) => /^careledger_(process|nodejs)_/.test(n))).toEqual([]);
    expect([...families.values()].filter((f) => f.type !== 'counter' && f.name.endsWith('_total'))).toEqual([]);
    for (const name of ['nodejs_active_handles_all', 'nodejs_active_requests_all', 'nodejs_active_resources_all']) {
      expect(families.get(name)?.type).toBe('gauge');
    }
    expect(families.has('nodejs_active_handles_total')).toBe(false);
    expect(valueOf(families, 'careledger_http_requests_total', { method: 'POST', route: '/v1/claims', status: '201' })).toBe(3);

    // an idle node that has caught up is not behind
    expect(valueOf(families, 'careledger_projection_lag_seconds')).toBe(0);
    expect(valueOf(families, 'careledger_projection_checkpoint')).toBe(await a.eventCount());

    // counting goes on from where it stopped: one more claim is one more
    const more = await s.open({ claimRef: 'MC-6', serial: 'M-A2', incidentAt: AT, openedAt: AT });
    expect(more.status).toBe(201);
    await waitUntilIdle(a);
    expect(business(await scrape(a)).claims.opened).toBe(4);
  }, 60_000);

  test('another node on the same log (or this one restarted) reports the same business totals; conflicts are its own answers', async () => {
    await waitUntilIdle(a);
    const here = business(await scrape(a));
    b = await TestServer.start({ CARELEDGER_DB: db, CARELEDGER_READ_DB: join(dir, 'b.read.sqlite') });
    await waitUntilIdle(b);
    const there = await scrape(b);
    expect(business(there)).toEqual(here);
    expect(there.get('careledger_conflicts_total')!.samples).toEqual([]);
  }, 30_000);

  test('the tally counts the read models slice by slice (2 positions at a time here) and each fact once', async () => {
    const counts: Record<string, number> = {};
    const add = (key: string, n: number) => (counts[key] = (counts[key] ?? 0) + n);
    const sink: TallySink = {
      claims: (outcome, n) => add(`claims:${outcome}`, n),
      replacements: (n) => add('replacements', n),
      refusals: (code, rule, n) => add(`refusals:${code}|${rule}`, n),
      sweepGrants: (kind, n) => add(`sweep:${kind}`, n),
      reset: () => Object.keys(counts).forEach((k) => delete counts[k]),
    };
    const tally = new LedgerTally(new RuntimeQueries(a.app.runtime), sink, 2);
    await Promise.all([tally.update(), tally.update()]);
    await tally.update();
    const scraped = business(await scrape(a));
    expect(Object.fromEntries(Object.entries(counts).filter(([k]) => k.startsWith('claims:')).map(([k, v]) => [k.slice(7), v]))).toEqual(
      Object.fromEntries(Object.entries(scraped.claims).filter(([, v]) => v > 0)),
    );
    expect(counts.replacements).toBe(scraped.replacements);
    expect(Object.fromEntries(Object.entries(counts).filter(([k]) => k.startsWith('refusals:')).map(([k, v]) => [k.slice(9), v]))).toEqual(scraped.refusals);
    expect(tally.countedThrough).toBe(await a.eventCount());
  });
});

describe('the strict exposition parser', () => {
  const family = (lines: string[]) => lines.join('\n') + '\n';
  test('reads names, labels with escapes, specials and histograms', () => {
    const parsed = parseExposition(family([
      '# HELP a_total Things, with \\\\ and \\n.',
      '# TYPE a_total counter',
      'a_total{code="x\\"y\\\\z\\nw",rule=""} 3',
      '',
      '# HELP g A gauge.',
      '# TYPE g gauge',
      'g NaN',
      '# HELP h A histogram.',
      '# TYPE h histogram',
      'h_bucket{le="0.1"} 1',
      'h_bucket{le="+Inf"} 2',
      'h_sum 0.3',
      'h_count 2',
    ]));
    expect(parsed.get('a_total')!.help).toBe('Things, with \\ and \n.');
    expect(parsed.get('a_total')!.samples[0].labels).toEqual({ code: 'x"y\\z\nw', rule: '' });
    expect(valueOf(parsed, 'g')).toBeNaN();
    expect(parsed.get('h')!.samples).toHaveLength(4);
  });

  test.each([
    ['a gauge ending in _total', ['# HELP g_total G.', '# TYPE g_total gauge', 'g_total 1'], /ends in _total/],
    ['a counter without _total', ['# HELP c C.', '# TYPE c counter', 'c 1'], /does not end in _total/],
    ['no HELP', ['# TYPE g gauge', 'g 1'], /no HELP/],
    ['no TYPE', ['# HELP g G.', 'g 1'], /before its family's TYPE/],
    ['a second TYPE', ['# HELP g G.', '# TYPE g gauge', '# TYPE g gauge', 'g 1'], /second TYPE/],
    ['a bad escape in a label value', ['# HELP g G.', '# TYPE g gauge', 'g{a="\\t"} 1'], /invalid escape/],
    ['a bad label name', ['# HELP g G.', '# TYPE g gauge', 'g{1a="x"} 1'], /label name/],
    ['a bad metric name', ['# HELP 1g G.', '# TYPE 1g gauge'], /metric name/],
    ['a value that is not a float', ['# HELP g G.', '# TYPE g gauge', 'g one'], /not a float/],
    ['a series twice', ['# HELP g G.', '# TYPE g gauge', 'g{a="1"} 1', 'g{a="1"} 2'], /twice/],
    ['a sample of another family', ['# HELP g G.', '# TYPE g gauge', 'h 1'], /not a sample/],
    ['buckets not cumulative', ['# HELP h H.', '# TYPE h histogram', 'h_bucket{le="1"} 2', 'h_bucket{le="+Inf"} 1', 'h_sum 1', 'h_count 1'], /not cumulative/],
    ['a family split', ['# HELP g G.', '# TYPE g gauge', 'g 1', '# HELP f F.', '# TYPE f gauge', 'f 1', '# HELP g G.'], /comes back/],
  ])('refuses %s', (_what, lines, error) => {
    expect(() => parseExposition(family(lines))).toThrow(error);
  });
});

/** Until the node's read models have applied the whole log and the runner has gone idle (nothing arrived for its idle period). */
async function waitUntilIdle(server: TestServer): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    const health = (await server.get('/health', null)).body;
    if (health.projection.state === 'live' && health.projection.behind === false) return;
    if (Date.now() > until) throw new Error(`the node did not go idle: ${JSON.stringify(health.projection)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
