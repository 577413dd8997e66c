/**
 * Two nodes in one process on one SQLite file, each with its own read store: a node that has not
 * caught up with another node's writes cannot tell whether a claim exists, and says so (503
 * NotCaughtUp) instead of answering 404 ClaimNotFound, which would be stale data.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scenario, TestServer } from './harness';

describe('two nodes on one store', () => {
  let dir: string;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'careledger-two-nodes-'));
    const db = join(dir, 'ledger.sqlite');
    a = await TestServer.start({ CARELEDGER_DB: db, CARELEDGER_READ_DB: join(dir, 'a.read.sqlite') });
    b = await TestServer.start({ CARELEDGER_DB: db, CARELEDGER_READ_DB: join(dir, 'b.read.sqlite') });
  });

  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a claim step on a node that cannot catch up with the log answers 503 NotCaughtUp, not 404; once caught up it is carried out", async () => {
    const s = scenario(a);
    await s.center('SC-1', 'US');
    // node B stops applying the log (as when restarting on a long log, or while its runner reconnects)
    await b.app.runtime.runner.pause();
    await s.buy({ term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-03-10T09:00:00-07:00', orderId: 'TN-1', serial: 'TN-A' });
    const opened = await s.open({ claimRef: 'TN-C1', serial: 'TN-A', incidentAt: '2024-05-01T10:00:00-07:00', openedAt: '2024-05-01T10:00:00-07:00' });
    expect(opened.status).toBe(201);
    const head = await a.eventCount();

    const early = await b.post(`/v1/claims/${opened.body.claimId}/approval`, 'sc1', { at: '2024-05-02T10:00:00-07:00' });
    expect(early.status).toBe(503);
    expect(early.body.code).toBe('NotCaughtUp');
    expect(early.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await a.eventCount()).toBe(head);

    b.app.runtime.runner.unpause();
    const approved = await b.post(`/v1/claims/${opened.body.claimId}/approval`, 'sc1', { at: '2024-05-02T10:00:00-07:00' });
    expect(approved.status).toBe(201);
    // an id no node knows is still a 404
    const unknown = await b.post('/v1/claims/no-such-claim/approval', 'sc1', { at: '2024-05-02T10:00:00-07:00' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('ClaimNotFound');
  }, 30_000);
});
