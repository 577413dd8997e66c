/**
 * Issue 14 item 4: the built app (`npm start`) stops on SIGTERM within a few seconds, idle and under
 * load, however its connections hang: keep-alive sockets, a request whose headers never end, a body
 * that never arrives. 50 runs. A second signal exits at once. Also what the process writes: request
 * logs carry the route's pattern, never the URL, and a tokens file others may read is warned about.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const main = join(root, 'dist', 'apps', 'api', 'apps', 'api', 'src', 'main.js');
const TOKENS = [
  { token: 'admin-token-0001', role: 'admin' },
  { token: 'sales-token-0001', role: 'sales' },
  { token: 'auditor-token-001', role: 'auditor' },
];
const GRACE_MS = 500;
/** 50 runs (the bar); CARELEDGER_SIGTERM_RUNS lowers it for a quick local run. */
const RUNS = Number(process.env.CARELEDGER_SIGTERM_RUNS ?? 50);
/** What "within a few seconds" means here: the grace for requests in flight, and 2.5 s for the rest. */
const EXIT_BOUND_MS = GRACE_MS + 2500;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface Node {
  child: ChildProcess;
  base: string;
  port: number;
  dir: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

async function startNode(env: Record<string, string> = {}, tokensMode = 0o600): Promise<Node> {
  const dir = mkdtempSync(join(tmpdir(), 'careledger-stop-'));
  const tokensFile = join(dir, 'tokens.json');
  writeFileSync(tokensFile, JSON.stringify(TOKENS));
  chmodSync(tokensFile, tokensMode);
  const port = await freePort();
  const child = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', CARELEDGER_DB: join(dir, 'ledger.sqlite'), CARELEDGER_TOKENS_FILE: tokensFile,
      CARELEDGER_SWEEP_INTERVAL_SECONDS: '0', CARELEDGER_CHECKPOINT_INTERVAL_SECONDS: '0', CARELEDGER_SHUTDOWN_GRACE_MS: String(GRACE_MS), ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })));
  const base = `http://127.0.0.1:${port}`;
  const until = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the app exited with ${child.exitCode}: ${output}`);
    try {
      if ((await fetch(`${base}/health/live`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`the app did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, base, port, dir, output: () => output, exited };
}

function cleanup(node: Node): void {
  if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL');
  rmSync(node.dir, { recursive: true, force: true });
}

/** Connections that would hold a graceful close forever: headers that never end, a body that never comes, an idle keep-alive. */
function lingering(port: number): Socket[] {
  const sockets: Socket[] = [];
  const open = (bytes: string) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    socket.on('error', () => undefined);
    sockets.push(socket);
  };
  open('GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer admin-');
  open('POST /v1/plans HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sales-token-0001\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"term":');
  open('GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
  return sockets;
}

/** Clients hammering the node with reads and writes on keep-alive connections until it stops answering. */
function load(node: Node, clients: number): { stop: () => Promise<{ ok: number; refused: number; problems: number }> } {
  let running = true;
  const counts = { ok: 0, refused: 0, problems: 0 };
  const loops = Array.from({ length: clients }, async (_, c) => {
    let i = 0;
    while (running) {
      i++;
      try {
        const res =
          i % 3 === 0
            ? await fetch(`${node.base}/v1/plans`, {
                method: 'POST',
                headers: { authorization: 'Bearer sales-token-0001', 'content-type': 'application/json' },
                body: JSON.stringify({ term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-03-10T09:00:00-07:00', orderId: `L-${c}-${i}`, serial: `L-${c}-${i}` }),
              })
            : await fetch(`${node.base}/v1/audit/events?limit=5`, { headers: { authorization: 'Bearer auditor-token-001' } });
        await res.text();
        if (res.status < 400) counts.ok++;
        else if (res.status === 503 && res.headers.get('content-type')?.startsWith('application/problem+json')) counts.problems++;
        else throw new Error(`unexpected ${res.status}`);
      } catch (error) {
        if ((error as Error).message.startsWith('unexpected')) throw error;
        counts.refused++;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return counts;
    },
  };
}

describe('SIGTERM on the built app', () => {
  beforeAll(() => {
    if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` (npm test does it in pretest)`);
  });

  test(`exits 0 within a few seconds in ${RUNS} of ${RUNS} runs, half idle, half under load, with connections that never finish`, async () => {
    const runs: { kind: 'idle' | 'load'; ms: number; code: number | null }[] = [];
    const one = async (kind: 'idle' | 'load') => {
      const node = await startNode();
      try {
        const sockets = lingering(node.port);
        const traffic = kind === 'load' ? load(node, 4) : null;
        if (traffic) await new Promise((r) => setTimeout(r, 150));
        const sent = Date.now();
        node.child.kill('SIGTERM');
        const exit = await Promise.race([node.exited, new Promise<null>((r) => setTimeout(() => r(null), EXIT_BOUND_MS + 5000))]);
        await traffic?.stop();
        sockets.forEach((s) => s.destroy());
        runs.push({ kind, ms: exit ? exit.at - sent : Infinity, code: exit ? exit.code : null });
      } finally {
        cleanup(node);
      }
    };
    // three at a time: a run is mostly waiting (start-up, the grace)
    const plan = Array.from({ length: RUNS }, (_, i) => (i % 2 === 0 ? 'idle' : 'load') as 'idle' | 'load');
    for (let i = 0; i < plan.length; i += 3) await Promise.all(plan.slice(i, i + 3).map(one));
    const slow = runs.filter((r) => r.code !== 0 || r.ms > EXIT_BOUND_MS);
    const worst = Math.max(...runs.map((r) => r.ms));
    console.log(`SIGTERM: ${runs.length - slow.length} of ${runs.length} runs exited 0 within ${EXIT_BOUND_MS} ms (slowest ${worst} ms; idle ${runs.filter((r) => r.kind === 'idle').length}, under load ${runs.filter((r) => r.kind === 'load').length})`);
    expect(slow).toEqual([]);
    expect(runs).toHaveLength(RUNS);
  }, 300_000);

  test('requests arriving while it stops are answered 503 problem+json (or refused), never a reset mid-answer or a 5xx of another kind', async () => {
    const node = await startNode();
    try {
      const sockets = lingering(node.port);
      const traffic = load(node, 6);
      await new Promise((r) => setTimeout(r, 200));
      node.child.kill('SIGTERM');
      const exit = await node.exited;
      const counts = await traffic.stop();
      sockets.forEach((s) => s.destroy());
      expect(exit.code).toBe(0);
      expect(counts.ok).toBeGreaterThan(0);
      expect(node.output()).toContain('"msg":"shutting down"');
    } finally {
      cleanup(node);
    }
  }, 60_000);

  test('a second signal exits at once, even while connections would hold the graceful stop', async () => {
    const node = await startNode({ CARELEDGER_SHUTDOWN_GRACE_MS: '60000' });
    try {
      const sockets = lingering(node.port);
      await new Promise((r) => setTimeout(r, 100));
      node.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      expect(node.child.exitCode).toBeNull();
      const sent = Date.now();
      node.child.kill('SIGTERM');
      const exit = await node.exited;
      sockets.forEach((s) => s.destroy());
      expect(exit.at - sent).toBeLessThan(1000);
      expect(exit.code).toBe(143);
      expect(node.output()).toContain('second signal: exiting now');
    } finally {
      cleanup(node);
    }
  }, 60_000);

  test('request logs name the route, never the URL (no serial, no query string); a tokens file others may read is warned about', async () => {
    const node = await startNode({ LOG_LEVEL: 'info' }, 0o644);
    try {
      const res = await fetch(`${node.base}/v1/devices/SERIAL-SECRET-1/entitlements?knownAt=2024-01-01T00:00:00Z&token=query-secret`, { headers: { authorization: 'Bearer auditor-token-001' } });
      await res.text();
      await fetch(`${node.base}/nothing/SERIAL-SECRET-2?token=query-secret`).then((r) => r.text());
      node.child.kill('SIGTERM');
      await node.exited;
      const lines = node.output().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      const requests = lines.filter((l) => 'status' in l && 'route' in l);
      expect(requests.map((l) => [l.method, l.route, l.status])).toEqual(
        expect.arrayContaining([
          // refused for its unknown query parameter: the route is still named, its URL is not
          ['GET', '/v1/devices/:serial/entitlements', 400],
          ['GET', 'unmatched', 404],
        ]),
      );
      expect(node.output()).not.toContain('SERIAL-SECRET');
      expect(node.output()).not.toContain('query-secret');
      const warning = lines.find((l) => typeof l.msg === 'string' && l.msg.includes('tokens file'));
      expect(warning).toMatchObject({ level: 40, mode: '0644', file: join(node.dir, 'tokens.json') });
      expect(warning!.msg).toContain('chmod 600');
    } finally {
      cleanup(node);
    }
  }, 60_000);
});
