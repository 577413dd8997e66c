/**
 * The app as `npm start` runs it (main.ts, from the sources, in a process of its own): it delivers
 * webhooks by itself (retrying a failing receiver), the webhook secret appears in no answer and no
 * log line even at the most verbose log level, and SIGTERM with an event stream and a long-poll
 * open ends the process promptly.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, Receiver, SseReader, sleep } from './integration.support';

const ROOT = join(__dirname, '..', '..', '..');
const SECRET = 'proc-secret-7QxN2vLp9Rk4Tz8W';
const TOKENS = {
  admin: 'proc-admin-token-1',
  sales: 'proc-sales-token-1',
  auditor: 'proc-auditor-token',
  integration: 'proc-integration-1',
};

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('the app process: webhooks delivered by npm start, the secret kept out of answers and logs, SIGTERM with open streams', () => {
  let dir: string;
  let child: ChildProcess;
  let output = '';
  let base: string;
  const answers: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'careledger-integration-'));
    const tokensFile = join(dir, 'tokens.json');
    writeFileSync(tokensFile, JSON.stringify(Object.entries(TOKENS).map(([role, token]) => ({ token, role }))));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, ['-r', join(ROOT, 'libs/testing/register.js'), join(ROOT, 'apps/api/src/main.ts')], {
      env: {
        PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', CARELEDGER_DB: join(dir, 'ledger.sqlite'), CARELEDGER_TOKENS_FILE: tokensFile,
        LOG_LEVEL: 'trace', CARELEDGER_SWEEP_INTERVAL_SECONDS: '0', CARELEDGER_CHECKPOINT_INTERVAL_SECONDS: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`the app exited: ${output}`);
      return fetch(`${base}/health/live`).then((r) => (r.ok ? true : undefined), () => undefined);
    }, 30_000, 'the app');
  }, 40_000);

  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    answers.push(text);
    return { status: res.status, text, body: text ? JSON.parse(text) : null };
  };

  test('delivers with retries, never shows or logs the secret, and stops promptly on SIGTERM with streams open', async () => {
    const receiver = await Receiver.start();
    receiver.respond = (_r, i) => (i < 2 ? 500 : 200);
    try {
      const created = await call('PUT', '/v1/webhooks/W-proc', TOKENS.admin, { url: receiver.url, secret: SECRET, types: ['PlanPurchased'] });
      expect(created.status).toBe(201);
      for (const body of [
        { url: `https://user:${SECRET}@hooks.example.com/`, secret: SECRET },
        { url: 'gopher://x', secret: SECRET },
        { url: receiver.url, secret: SECRET, types: [SECRET] },
        { url: receiver.url, secret: `${SECRET}${'x'.repeat(300)}` },
      ]) {
        expect((await call('PUT', '/v1/webhooks/W-proc', TOKENS.admin, body)).status).toBe(400);
      }
      for (const serial of ['PROC-1', 'PROC-2']) {
        const bought = await call('POST', '/v1/plans', TOKENS.sales, {
          term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-03-10T10:00:00Z', orderId: `O-${serial}`, serial,
        });
        expect(bought.status).toBe(201);
      }
      // the default policy: 1 s, then 2 s of backoff (+-20 %), then delivered in order
      await eventually(() => (receiver.firstReceipts().length >= 2 && receiver.inFlight === 0 ? true : undefined), 20_000, 'the deliveries');
      expect(receiver.requests).toHaveLength(4);
      expect(receiver.requests.map((r) => r.json.event.data.serial)).toEqual(['PROC-1', 'PROC-1', 'PROC-1', 'PROC-2']);
      for (const r of receiver.requests) expect(r.headers['x-careledger-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(r.body).digest('hex')}`);
      const gaps = [1, 2].map((i) => receiver.requests[i].at - receiver.requests[i - 1].at);
      expect(gaps[0]).toBeGreaterThanOrEqual(700);
      expect(gaps[1]).toBeGreaterThanOrEqual(1500);

      expect((await call('GET', '/v1/webhooks/W-proc', TOKENS.admin)).body).toMatchObject({ status: 'active', delivered: 2, attempts: 4 });
      expect((await call('GET', '/v1/webhooks/W-proc/deliveries', TOKENS.auditor)).body.items).toHaveLength(4);
      expect((await call('GET', '/v1/feed?limit=1000', TOKENS.integration)).body.events.length).toBeGreaterThan(0);

      // SIGTERM while an event stream and a long-poll are open: the process still ends promptly
      const sse = await SseReader.open(`${base}/v1/feed`, TOKENS.integration);
      const head = (await call('GET', '/v1/feed?limit=1000', TOKENS.integration)).body.next as string;
      const longPoll = fetch(`${base}/v1/feed?after=${head}&wait=30`, { headers: { authorization: `Bearer ${TOKENS.integration}` } }).then(
        (r) => r.status,
        () => 'closed',
      );
      await sleep(300);
      const signalled = Date.now();
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      expect(Date.now() - signalled).toBeLessThan(10_000);
      expect(code).toBe(0);
      await longPoll;
      for (;;) {
        const m = await sse.next(5000).catch(() => null);
        if (m === null) break;
      }
      expect(sse.ended).toBe(true);
    } finally {
      await receiver.stop();
    }

    // the logs were written (one structured line per request at least), and none holds the secret; neither does any answer
    expect(output).toContain('"route":"/v1/webhooks/:webhookId"');
    expect(output).toContain('delivering webhook W-proc from this node');
    expect(output).not.toContain(SECRET);
    for (const text of answers) expect(text).not.toContain(SECRET);
  }, 60_000);
});
