/**
 * Start-up pieces in-process: catch-up progress fed by a real node's runner while it applies a log
 * of a few thousand events (position / head, events per second, time left, then "caught up"), and
 * silence when there is nothing to catch up; the URLs the banner gives for each kind of bind; store
 * locations without passwords.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteEventStore } from '@careledger/event-store';
import { Runtime } from '@careledger/runtime';
import { CatchUpProgress, reachable, redact } from '../src/startup';

describe('catch-up progress', () => {
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'careledger-progress-'));
    const store = openSqliteEventStore({ path: join(dir, 'ledger.sqlite'), synchronous: 'NORMAL' });
    // 5,000 facts: 50 appends of 100 centers each
    for (let a = 0; a < 50; a++) {
      await store.append(
        Array.from({ length: 100 }, (_, i) => {
          const centerId = `P-${a}-${i}`;
          return {
            streamId: `service-center-${centerId}`,
            events: [{ eventId: `progress-${centerId}`, type: 'ServiceCenterRegistered', data: { centerId, name: centerId, region: 'US', at: '2024-01-01T00:00:00Z' }, metadata: { occurredAt: '2024-01-01T00:00:00Z', actor: 'test', correlationId: 'c' } }],
          };
        }),
      );
    }
    await store.close();
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function openWith(progress: CatchUpProgress, readDb: string): Promise<Runtime> {
    const rt = await Runtime.open({
      dbPath: join(dir, 'ledger.sqlite'),
      readDbPath: join(dir, readDb),
      signingKeyDefaultFile: join(dir, 'signing-key.pem'),
      onApplied: (applied) => progress.applied(applied),
    });
    expect(await rt.catchUpToHead(30_000)).toBe(true);
    return rt;
  }

  test('says where the read models are, how fast they go and how long is left, then that they caught up', async () => {
    const lines: { fields: Record<string, unknown>; message: string }[] = [];
    let clock = 0;
    let flushes = 0;
    // a clock that moves 10 s per batch: every batch but the last is worth a report
    const progress = new CatchUpProgress({ info: (fields, message) => lines.push({ fields: fields as Record<string, unknown>, message }) }, 5000, () => (clock += 10_000), () => flushes++);
    const rt = await openWith(progress, 'read-a.sqlite');
    try {
      const head = (await rt.store.headPosition()).toString();
      expect(head).toBe('5000');
      const reports = lines.slice(0, -1);
      expect(reports.length).toBeGreaterThanOrEqual(1);
      for (const r of reports) {
        expect(r.message).toMatch(/^catching up with the log: position \d+ of 5000 \(\d+(\.\d)?%\), \d+ events\/s, about \d+ s left$/);
        expect(r.fields).toMatchObject({ head, eventsPerSecond: expect.any(Number), secondsLeft: expect.any(Number) });
      }
      const positions = reports.map((r) => Number(r.fields.position));
      expect(positions).toEqual([...positions].sort((x, y) => x - y));
      expect(positions.every((p) => p > 0 && p < 5000)).toBe(true);
      expect(lines.at(-1)!.message).toMatch(/^caught up with the log: 5000 events applied in \d+(\.\d)? s \(\d+ events\/s\), the read models are at position 5000$/);
      expect(lines.at(-1)!.fields).toMatchObject({ position: '5000', head, events: 5000 });
      // each line is written out at once (the catch-up keeps the event loop busy)
      expect(flushes).toBe(lines.length);

      // what the node applies after the catch-up is live traffic, not progress
      await rt.ledger.execute({ type: 'RegisterServiceCenter', centerId: 'LIVE-1', name: 'Live', region: 'US', at: '2024-01-01T00:00:00Z' }, { actor: 'test', correlationId: 'c' });
      expect(await rt.catchUpToHead()).toBe(true);
      expect(lines.at(-1)!.message).toMatch(/^caught up/);
    } finally {
      await rt.close();
    }
  }, 60_000);

  test('a node whose read models are at the head says nothing', async () => {
    const lines: string[] = [];
    const quiet = new CatchUpProgress({ info: (_f, message) => lines.push(message) }, 0);
    const rt = await openWith(quiet, 'read-a.sqlite');
    try {
      await rt.ledger.execute({ type: 'RegisterServiceCenter', centerId: 'LIVE-2', name: 'Live', region: 'US', at: '2024-01-01T00:00:00Z' }, { actor: 'test', correlationId: 'c' });
      expect(await rt.catchUpToHead()).toBe(true);
      expect(lines).toEqual([]);
    } finally {
      await rt.close();
    }
  });
});

describe('the banner\'s URLs and locations', () => {
  test('a wildcard bind answers on 127.0.0.1 here and on the host name from others; a named address as itself', () => {
    expect(reachable('0.0.0.0', 3000, 'desk-7')).toEqual({ host: '0.0.0.0', port: 3000, everywhere: true, url: 'http://127.0.0.1:3000', remoteUrl: 'http://desk-7:3000' });
    expect(reachable('::', 3000, 'desk-7')).toMatchObject({ everywhere: true, url: 'http://[::1]:3000' });
    expect(reachable('127.0.0.1', 8080)).toEqual({ host: '127.0.0.1', port: 8080, everywhere: false, url: 'http://127.0.0.1:8080', remoteUrl: null });
    expect(reachable('fd00::5', 8080).url).toBe('http://[fd00::5]:8080');
    expect(reachable('localhost', 3000).url).toBe('http://localhost:3000');
  });

  test('connection strings lose their passwords', () => {
    expect(redact('postgres://careledger:s3cret@db:5432/careledger')).toBe('postgres://careledger:***@db:5432/careledger');
    expect(redact('esdb://admin:changeit@eventstore:2113?tls=false')).toBe('esdb://admin:***@eventstore:2113?tls=false');
    expect(redact('host=db user=x password=s3cret dbname=y')).toBe('host=db user=x password=*** dbname=y');
    expect(redact('esdb://eventstore:2113?tls=false')).toBe('esdb://eventstore:2113?tls=false');
  });
});
