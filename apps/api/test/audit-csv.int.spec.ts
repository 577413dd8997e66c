/**
 * GET /v1/audit/events and /v1/audit/decisions with Accept: text/csv, over real HTTP: the rows
 * are the JSON answer's items (every page) under the same filters; RFC 4180 (header row, CRLF,
 * quoted fields, doubled quotes) read back by a strict parser; hostile values (commas, quotes,
 * newlines, =cmd|' payloads, a leading minus) arrive intact and formula-safe; a log of thousands
 * of events streams in more than one chunk without paging.
 */
import { parse } from 'csv-parse/sync';
import { TokenRegistry } from '../src/auth/tokens';
import { csvCell, csvStream } from '../src/http/csv';
import { scenario, TestServer, TOKENS } from './harness';

const AT = '2024-05-01T10:00:00-07:00';
const HOSTILE_REASON = `=cmd|' /C calc'!A0, "water", damage\r\nsecond line`;
const HOSTILE_ACTOR = `=HYPERLINK("http://evil.example","click"),\r\n@SUM(1+1)`;
const CSV = { accept: 'text/csv' };

const EVENT_FIELDS = ['position', 'eventId', 'type', 'streamId', 'revision', 'occurredAt', 'recordedAt', 'actor', 'correlationId', 'causationId', 'data'];
const DECISION_FIELDS = ['position', 'decisionId', 'type', 'command', 'recordedAt', 'actor', 'correlationId', 'outcome', 'code', 'rule', 'detail', 'serial', 'planId', 'claimId', 'eventIds', 'request'];
const NUMERIC = new Set(['position', 'revision']);

/** What a cell must hold once parsed: the JSON field as text, objects as JSON, a formula-like start quoted with '. */
function expectedCell(field: string, value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (NUMERIC.has(field)) return text;
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** The RFC 4180 reading of a body: strict quotes, CRLF records, every record as wide as the header. */
function readCsv(body: string): string[][] {
  return parse(body, { record_delimiter: '\r\n', relax_quotes: false, relax_column_count: false, skip_empty_lines: false, bom: false }) as string[][];
}

describe('audit answers as CSV', () => {
  let server: TestServer;
  let s: ReturnType<typeof scenario>;
  let deniedClaim: string;

  beforeAll(async () => {
    const tokens = new TokenRegistry([
      ...Object.values(TOKENS).map((t) => ({ ...t })),
      { token: 'hostile-center-token', role: 'service-center:SC-1', name: HOSTILE_ACTOR },
    ]);
    server = await TestServer.start({}, { tokens });
    s = scenario(server);
    await s.center('SC-1', 'US');
    for (const unit of ['CSV-A', 'CSV-B']) {
      await s.buy({ term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-03-10T09:00:00-07:00', orderId: `CSV-O-${unit}`, serial: unit });
    }
    await s.replace('CSV-A', 'CSV-C1', AT, 'CSV-A2');
    const opened = await s.open({ claimRef: 'CSV-C2', serial: 'CSV-B', incidentAt: AT, openedAt: AT });
    deniedClaim = opened.body.claimId;
    // a denial with a hostile reason, by a token whose name (the actor) is hostile, with a request id that starts with a minus
    const denied = await fetch(`${server.baseUrl}/v1/claims/${deniedClaim}/denial`, {
      method: 'POST',
      headers: { authorization: 'Bearer hostile-center-token', 'content-type': 'application/json', 'x-request-id': '-1.5' },
      body: JSON.stringify({ at: AT, reason: HOSTILE_REASON }),
    });
    expect(denied.status).toBe(201);
    // refusals for the decision log
    expect((await s.open({ claimRef: 'CSV-C3', serial: 'NO-PLAN', incidentAt: AT, openedAt: AT })).status).toBe(422);
    expect((await server.post('/v1/plans', 'sales', { term: '1y', model: '=1+2', region: 'US', channel: 'online', purchasedAt: AT, orderId: 'CSV-BAD', serial: 'CSV-X' })).status).toBe(422);
  }, 30_000);

  afterAll(() => server.stop());

  /** Every item of the JSON answer, page by page. */
  async function allJson(path: string, query: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let cursor: string | null = null;
    do {
      const sep = query ? '&' : '';
      const page: { status: number; body: { items: Record<string, unknown>[]; nextCursor: string | null } } = await server.get(`${path}?${query}${sep}limit=3${cursor ? `&cursor=${cursor}` : ''}`, 'auditor');
      expect(page.status).toBe(200);
      items.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    return items;
  }

  async function csvOf(path: string, query: string): Promise<{ header: string[]; rows: string[][]; raw: string; headers: Headers }> {
    const answer = await server.get<string>(`${path}${query ? `?${query}` : ''}`, 'auditor', CSV);
    expect(answer.status).toBe(200);
    const [header, ...rows] = readCsv(answer.body);
    return { header, rows, raw: answer.body, headers: answer.headers };
  }

  test.each([
    ['all', ''],
    ['serial', 'serial=CSV-A'],
    ['type', 'type=ClaimDenied'],
    ['claimId', () => `claimId=${deniedClaim}`],
    ['actor', `actor=${encodeURIComponent(HOSTILE_ACTOR)}`],
    ['recorded window', () => `recordedFrom=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}&recordedTo=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`],
    ['type and serial', 'type=ClaimOpened&serial=CSV-B'],
  ])('events, %s: the CSV rows are the JSON items under the same filters', async (_what, query) => {
    const q = typeof query === 'function' ? query() : query;
    const json = await allJson('/v1/audit/events', q);
    const csv = await csvOf('/v1/audit/events', q);
    expect(csv.header).toEqual(EVENT_FIELDS);
    expect(csv.rows).toEqual(json.map((item) => EVENT_FIELDS.map((f) => expectedCell(f, item[f]))));
    if (q !== '') expect(json.length).toBeGreaterThan(0);
  });

  test.each([
    ['all', ''],
    ['refused', 'outcome=refused'],
    ['accepted', 'outcome=accepted'],
    ['code', 'code=DeviceNotCovered'],
    ['serial', 'serial=CSV-A'],
    ['command', 'type=DenyClaim'],
    ['claimId', () => `claimId=${deniedClaim}`],
  ])('decisions, %s: the CSV rows are the JSON items under the same filters', async (_what, query) => {
    const q = typeof query === 'function' ? query() : query;
    const json = await allJson('/v1/audit/decisions', q);
    const csv = await csvOf('/v1/audit/decisions', q);
    expect(csv.header).toEqual(DECISION_FIELDS);
    expect(csv.rows).toEqual(json.map((item) => DECISION_FIELDS.map((f) => expectedCell(f, item[f]))));
    expect(json.length).toBeGreaterThan(0);
  });

  test('RFC 4180 on the wire, and hostile values arrive intact and formula-safe', async () => {
    const { rows, raw, headers } = await csvOf('/v1/audit/events', `claimId=${deniedClaim}`);
    expect(headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
    expect(headers.get('content-disposition')).toMatch(/^attachment; filename="careledger-audit-events-to-\d+\.csv"$/);
    // CRLF after every record, and no bare LF outside a quoted field
    expect(raw.endsWith('\r\n')).toBe(true);
    expect(raw.split('\r\n')[0]).toBe(EVENT_FIELDS.join(','));
    const denial = rows.find((r) => r[2] === 'ClaimDenied')!;
    const cell = (name: string) => denial[EVENT_FIELDS.indexOf(name)];
    // the actor (a token's name) starts with = and holds a comma, quotes, CR LF and @: quoted, quotes doubled, prefixed
    expect(cell('actor')).toBe(`'${HOSTILE_ACTOR}`);
    expect(raw).toContain(`"'=HYPERLINK(""http://evil.example"",""click""),\r\n@SUM(1+1)"`);
    // a request id starting with a minus is text: prefixed too
    expect(cell('correlationId')).toBe("'-1.5");
    // the reason sits in the data JSON: the cell starts with {, so it needs no prefix, and reads back whole
    expect(cell('data').startsWith('{')).toBe(true);
    expect(JSON.parse(cell('data'))).toMatchObject({ claimId: deniedClaim, reason: HOSTILE_REASON });
    // numbers stay numbers
    expect(cell('position')).toMatch(/^\d+$/);
    expect(cell('revision')).toMatch(/^\d+$/);
    // no cell a spreadsheet would run
    for (const row of rows) for (const value of row) expect(value).not.toMatch(/^[=+\-@\t\r]/);

    const refused = await csvOf('/v1/audit/decisions', 'outcome=refused');
    const model = refused.rows.find((r) => r[DECISION_FIELDS.indexOf('code')] === 'UnknownModel')!;
    expect(JSON.parse(model[DECISION_FIELDS.indexOf('request')])).toMatchObject({ model: '=1+2' });
    for (const row of refused.rows) for (const value of row) expect(value).not.toMatch(/^[=+\-@\t\r]/);
  });

  test('no paging with CSV: cursor and limit are refused (400), naming them; an auditor token is needed', async () => {
    const paged = await server.get('/v1/audit/events?limit=10', 'auditor', CSV);
    expect(paged.status).toBe(400);
    expect(paged.body).toMatchObject({ code: 'ValidationFailed', errors: [{ field: 'limit', message: 'is not taken with Accept: text/csv' }] });
    const both = await server.get('/v1/audit/decisions?limit=10&cursor=abc', 'auditor', CSV);
    expect(both.body.errors.map((e: { field: string }) => e.field)).toEqual(['cursor', 'limit']);
    expect((await server.get('/v1/audit/events', 'sales', CSV)).status).toBe(403);
    expect((await server.get('/v1/audit/events', null, CSV)).status).toBe(401);
    // JSON stays the default: paged as before
    const json = await server.get('/v1/audit/events?limit=2', 'auditor', { accept: 'application/json, text/csv;q=0.5' });
    expect(json.body.items).toHaveLength(2);
  });

  test('a log of thousands of events streams whole, in more than one chunk, as of where it began', async () => {
    const store = server.app.runtime.store;
    const base = await server.eventCount();
    for (let a = 0; a < 30; a++) {
      await store.append(
        Array.from({ length: 100 }, (_, i) => {
          const centerId = `BULK-${a}-${i}`;
          return {
            streamId: `service-center-${centerId}`,
            events: [{ eventId: `bulk-${centerId}`, type: 'ServiceCenterRegistered', data: { centerId, name: `Center, "${centerId}"`, region: 'US', at: '2024-01-01T00:00:00Z' }, metadata: { occurredAt: '2024-01-01T00:00:00Z', actor: 'bulk', correlationId: 'c' } }],
          };
        }),
      );
    }
    const head = await server.eventCount();
    expect(head - base).toBe(3000);
    expect(await server.app.runtime.catchUpToHead(10_000)).toBe(true);

    const res = await fetch(`${server.baseUrl}/v1/audit/events`, { headers: { authorization: `Bearer ${TOKENS.auditor.token}`, accept: 'text/csv' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBeNull();
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="careledger-audit-events-to-${head}.csv"`);
    const reader = res.body!.getReader();
    const chunks: Uint8Array[] = [];
    // events appended while the answer streams are not in it: it is as of the checkpoint when it began
    let appendedMeanwhile = false;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      if (!appendedMeanwhile) {
        appendedMeanwhile = true;
        await s.center('SC-LATE', 'US');
      }
    }
    expect(chunks.length).toBeGreaterThan(1);
    const rows = readCsv(Buffer.concat(chunks).toString('utf8')).slice(1);
    expect(rows).toHaveLength(head);
    expect(rows.map((r) => Number(r[0]))).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    expect(rows.at(-1)![EVENT_FIELDS.indexOf('data')]).toContain('"name":"Center, \\"BULK-29-99\\""');
    expect(await server.eventCount()).toBe(head + 1);

    const bulk = await csvOf('/v1/audit/events', 'actor=bulk');
    expect(bulk.rows).toHaveLength(3000);
  }, 60_000);
});

describe('the CSV stream', () => {
  test('reads the next page only when the consumer wants more (backpressure), and stops when destroyed', async () => {
    let reads = 0;
    const pages = 100;
    const big = 'x'.repeat(10_000);
    const stream = csvStream<{ n: number }>([{ name: 'n', value: (r) => r.n, numeric: true }, { name: 'text', value: () => big }], (after) => {
      reads++;
      const start = after ?? 0;
      return { items: [{ n: start + 1 }], next: start + 1 < pages ? start + 1 : null };
    }, 1);
    const first = await new Promise<Buffer>((resolve) => stream.once('data', (chunk: Buffer) => {
      stream.pause();
      resolve(chunk);
    }));
    expect(first.toString()).toBe('n,text\r\n');
    await new Promise((r) => setTimeout(r, 100));
    // a 64 KiB buffer holds a handful of 10 kB pages, not a hundred
    expect(reads).toBeLessThan(15);
    stream.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(reads).toBeLessThan(15);
  });

  test('cells: RFC 4180 quoting and the formula prefix, numbers untouched', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line\r\nbreak')).toBe('"line\r\nbreak"');
    expect(csvCell('=1+2')).toBe("'=1+2");
    expect(csvCell("=cmd|' /C calc'!A0")).toBe("'=cmd|' /C calc'!A0");
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-1')).toBe("'-1");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\tx')).toBe("'\tx");
    expect(csvCell('\rx')).toBe(`"'\rx"`);
    expect(csvCell('=a,b')).toBe(`"'=a,b"`);
    expect(csvCell(null)).toBe('');
    expect(csvCell({ a: '=x' })).toBe('"{""a"":""=x""}"');
    expect(csvCell(['a', 'b'])).toBe('"[""a"",""b""]"');
    expect(csvCell('1042', true)).toBe('1042');
    expect(csvCell(7, true)).toBe('7');
    // a numeric column never holds anything else here; if it did, it would be text, and safe
    expect(csvCell('-1', true)).toBe("'-1");
  });
});
