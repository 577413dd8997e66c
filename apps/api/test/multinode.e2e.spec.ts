/**
 * Several nodes on one store, the way operators run them: three processes of the built app
 * (`dist/.../main.js`, as `npm start` runs it), each with its own read store, sharing one event store,
 * one tokens file and one signing key. Once on a SQLite file shared by the processes of one machine,
 * once on a PostgreSQL database of its own (created for the run and dropped after; the PostgreSQL half
 * runs when CARELEDGER_DATABASE_URL names a server on this machine, and says it skipped otherwise).
 *
 * What must hold with more than one node: a contested last replacement is granted once, whichever
 * nodes the requests land on; one Idempotency-Key sent to two nodes appends once and answers the same;
 * a refusal made on one node is in every node's decision log; a write on one node is read on another
 * with minPosition (and a position beyond the log answers 503, never stale data); the sweep run on
 * every node at once grants each reward once; a node SIGKILLed under load loses nothing it
 * acknowledged, the survivors agree, and the node restarted catches up; and (PostgreSQL) the nodes
 * survive their connections being dropped by the server.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteEventStore } from '@careledger/event-store';
import { Client } from 'pg';
import { postgresUrl } from '@careledger/testing/stores';

const ROOT = join(__dirname, '..', '..', '..');
const MAIN = join(ROOT, 'dist', 'apps', 'api', 'apps', 'api', 'src', 'main.js');
const ARTIFACTS = join(ROOT, 'test-artifacts', 'multinode');
const NODES = 3;

type Role = 'admin' | 'sales' | 'registry' | 'auditor' | 'sc1';
const ROLE_NAMES: Record<Role, string> = { admin: 'admin', sales: 'sales', registry: 'device-registry', auditor: 'auditor', sc1: 'service-center:SC-1' };

interface Answer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether `promise` settled within `ms` (the timer is cleared either way). */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Every child still running, SIGKILLed if the test process exits without afterAll (a crash, a kill). */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** One API process. */
class NodeProcess {
  child: ChildProcess | null = null;
  private tail = '';
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly cwd: string,
    private readonly logFile: string,
    private readonly tokens: Record<Role, string>,
  ) {}

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    const child = spawn(process.execPath, [MAIN], { env: this.env, cwd: this.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      const text = chunk.toString();
      this.tail = (this.tail + text).slice(-8000);
      appendFileSync(this.logFile, text);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    children.add(child);
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        children.delete(child);
        resolve();
      }),
    );
    appendFileSync(this.logFile, `--- ${new Date().toISOString()} start ${this.name} (pid ${child.pid})\n`);
    this.child = child;
  }

  /** The last lines the process wrote (for failure messages). */
  output(): string {
    return this.tail;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL', waitMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child!.kill(signal);
    if (!(await within(this.exited, waitMs)) && this.running) {
      this.child!.kill('SIGKILL');
      await within(this.exited, waitMs);
    }
  }

  /** Waits (bounded) until GET /health/ready answers 200. */
  async waitReady(ms = 30_000): Promise<void> {
    const until = Date.now() + ms;
    let last = 'no answer';
    while (Date.now() < until) {
      if (!this.running) throw new Error(`${this.name} exited (${this.child?.exitCode ?? this.child?.signalCode}) before it was ready:\n${this.tail}`);
      try {
        const res = await fetch(`${this.base}/health/ready`, { signal: AbortSignal.timeout(5000) });
        const text = await res.text();
        if (res.status === 200) return;
        last = `${res.status} ${text}`;
      } catch (error) {
        last = String(error);
      }
      await sleep(100);
    }
    throw new Error(`${this.name} was not ready within ${ms} ms (last: ${last}):\n${this.tail}`);
  }

  async call<T = any>(method: string, path: string, as: Role | null, body?: unknown, headers: Record<string, string> = {}): Promise<Answer<T>> {
    const h: Record<string, string> = { ...headers };
    if (as) h.authorization = `Bearer ${this.tokens[as]}`;
    if (body !== undefined) h['content-type'] = 'application/json';
    const res = await fetch(this.base + path, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  post<T = any>(path: string, as: Role, body?: unknown, headers?: Record<string, string>) {
    return this.call<T>('POST', path, as, body ?? {}, headers);
  }

  get<T = any>(path: string, as: Role | null = 'auditor') {
    return this.call<T>('GET', path, as);
  }
}

/** The store every node shares, made fresh for one run and removed after. */
interface SharedStore {
  label: string;
  /** The store's part of each node's environment. */
  env: Record<string, string>;
  /** Every event id in the log, read from the store itself (not through a node). */
  eventIds(): Promise<Set<string>>;
  /** PostgreSQL only: ends every server connection of the nodes; answers how many. */
  dropConnections?(): Promise<number>;
  /**
   * PostgreSQL only: what a failover to an asynchronous replica (or a restore of an older backup)
   * does to the log under running nodes: the events after `position` are gone; the nodes'
   * connections drop (a direct connection) or stay (behind a connection pooler). Answers how many
   * events went.
   */
  loseTailAfter?(position: bigint, options: { dropConnections: boolean }): Promise<number>;
  dispose(): Promise<void>;
}

async function sqliteStore(dir: string): Promise<SharedStore> {
  const file = join(dir, 'shared', 'ledger.sqlite');
  mkdirSync(join(dir, 'shared'), { recursive: true });
  return {
    label: 'sqlite',
    env: { CARELEDGER_DB: file },
    async eventIds() {
      // through the adapter: the file keeps ids in its own encoding (16-byte blobs for UUIDs)
      const store = openSqliteEventStore({ path: file });
      try {
        return new Set((await store.readAll()).map((e) => e.eventId));
      } finally {
        await store.close();
      }
    },
    async dispose() {
      // the directory goes with the cluster's
    },
  };
}

async function postgresStore(serverUrl: string, dir: string): Promise<SharedStore> {
  const database = `careledger_mn_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  const withDb = async <T>(work: (client: Client) => Promise<T>): Promise<T> => {
    const client = new Client({ connectionString: url.toString() });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  return {
    label: 'postgres',
    // CARELEDGER_DB is not used on PostgreSQL; it keeps the nodes' default paths inside the run's directory
    env: { CARELEDGER_DATABASE_URL: url.toString(), CARELEDGER_DB: join(dir, 'unused', 'ledger.sqlite') },
    eventIds: () => withDb(async (client) => new Set((await client.query<{ event_id: string }>('SELECT event_id FROM careledger.events')).rows.map((r) => r.event_id))),
    dropConnections: () =>
      withDb(async (client) => {
        const result = await client.query<{ ended: boolean }>(
          'SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
        );
        return result.rows.filter((r) => r.ended).length;
      }),
    loseTailAfter: (position, { dropConnections }) =>
      withDb(async (client) => {
        // the store refuses DELETE with a trigger; a replica that never received the tail needs none
        await client.query('BEGIN');
        await client.query('ALTER TABLE careledger.events DISABLE TRIGGER USER');
        const deleted = await client.query('DELETE FROM careledger.events WHERE position > $1', [position.toString()]);
        await client.query('ALTER TABLE careledger.events ENABLE TRIGGER USER');
        await client.query('COMMIT');
        if (dropConnections) await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
        return deleted.rowCount ?? 0;
      }),
    async dispose() {
      const client = new Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Three nodes on one store. */
class Cluster {
  readonly nodes: NodeProcess[] = [];

  private constructor(
    readonly store: SharedStore,
    readonly dir: string,
  ) {}

  static async start(label: string, makeStore: (dir: string) => Promise<SharedStore>): Promise<Cluster> {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` (npm test does it in pretest)`);
    const dir = mkdtempSync(join(tmpdir(), `careledger-multinode-${label}-`));
    mkdirSync(ARTIFACTS, { recursive: true });
    const store = await makeStore(dir);
    const cluster = new Cluster(store, dir);
    const tokens = Object.fromEntries((Object.keys(ROLE_NAMES) as Role[]).map((r) => [r, `${r}-${randomBytes(12).toString('hex')}`])) as Record<Role, string>;
    const tokensFile = join(dir, 'tokens.json');
    writeFileSync(tokensFile, JSON.stringify((Object.keys(ROLE_NAMES) as Role[]).map((r) => ({ token: tokens[r], role: ROLE_NAMES[r] }))));
    const keyFile = join(dir, 'signing-key.pem');
    writeFileSync(keyFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    for (let i = 0; i < NODES; i++) {
      const port = await freePort();
      const home = join(dir, `node-${i}`);
      mkdirSync(home, { recursive: true });
      const logFile = join(ARTIFACTS, `${label}-node-${i}.log`);
      writeFileSync(logFile, '');
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '',
        PORT: String(port),
        HOST: '127.0.0.1',
        ...store.env,
        CARELEDGER_READ_DB: join(home, 'read.sqlite'),
        CARELEDGER_TOKENS_FILE: tokensFile,
        CARELEDGER_SIGNING_KEY_FILE: keyFile,
        CARELEDGER_SWEEP_INTERVAL_SECONDS: '0',
        CARELEDGER_CHECKPOINT_INTERVAL_SECONDS: '0',
        LOG_LEVEL: 'warn',
      };
      cluster.nodes.push(new NodeProcess(`${label} node ${i}`, port, env, home, logFile, tokens));
    }
    try {
      for (const node of cluster.nodes) node.start();
      await Promise.all(cluster.nodes.map((n) => n.waitReady(45_000)));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  node(i: number): NodeProcess {
    return this.nodes[i % this.nodes.length];
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill('SIGKILL').catch(() => undefined)));
    await this.store.dispose().catch((error) => console.error(`multinode: could not remove the ${this.store.label} store: ${String(error)}`));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A command answer that must be 201 or 200. */
function ok<T = any>(answer: Answer<T>, what: string): T {
  if (answer.status !== 201 && answer.status !== 200) throw new Error(`${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

const maxPosition = (positions: (string | undefined)[]) => positions.reduce((a, p) => (p !== undefined && BigInt(p) > a ? BigInt(p) : a), 0n);

/** Every event of the log through a node's /v1/audit/events (after it reflects `minPosition`, when given). */
async function auditEvents(node: NodeProcess, query: string, minPosition: bigint | null): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const path: string = `/v1/audit/events?limit=1000${minPosition === null ? '' : `&minPosition=${minPosition}`}${query ? `&${query}` : ''}${cursor ? `&cursor=${cursor}` : ''}`;
    const answer = await node.get(path);
    if (answer.status !== 200) throw new Error(`${node.name} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    items.push(...answer.body.items);
    cursor = answer.body.nextCursor;
    if (!cursor) return items;
  }
  throw new Error('more than 100 pages of events');
}

async function headOf(node: NodeProcess): Promise<bigint> {
  const health = await node.get('/health', null);
  return BigInt(health.body.store.head);
}

const purchase = (orderId: string, serial: string, purchasedAt = '2024-03-10T09:00:00-07:00') => ({
  term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt, orderId, serial,
});

const claim = (claimRef: string, serial: string, cause = 'collision') => ({
  claimRef, serial, kind: 'damage', cause, incidentAt: '2024-05-01T10:00:00-07:00', openedAt: '2024-05-01T10:00:00-07:00', serviceCenterId: 'SC-1',
});

function multiNodeSuite(label: string, makeStore: ((dir: string) => Promise<SharedStore>) | null): void {
  const run = makeStore ? describe : describe.skip;
  run(`three nodes on one ${label} store`, () => {
    let cluster: Cluster;
    const at = (i: number) => cluster.node(i);

    beforeAll(async () => {
      cluster = await Cluster.start(label, makeStore!);
      ok(await at(0).call('PUT', '/v1/service-centers/SC-1', 'admin', { name: 'Center SC-1', region: 'US' }), 'service center');
    }, 90_000);

    afterAll(async () => {
      await cluster?.stop();
    }, 60_000);

    test("parallel approvals of a plan's last replacement, spread over the nodes: exactly one wins, every round", async () => {
      for (let round = 0; round < 4; round++) {
        const serial = `MN-AP-${round}`;
        const { planId } = ok(await at(round).post('/v1/plans', 'sales', purchase(`MN-AP-${round}`, serial)), 'purchase');
        // seven claims on one 1-Year plan (2 replacements), opened on every node
        const opened = await Promise.all(Array.from({ length: 7 }, (_, i) => at(i).post('/v1/claims', 'sc1', claim(`MN-AP-${round}-${i}`, serial))));
        const claimIds = opened.map((a, i) => ok(a, `claim ${i}`).claimId as string);
        // the first replacement is taken; the six others contend for the last one, two per node
        const first = ok(await at(round + 1).post(`/v1/claims/${claimIds[0]}/approval`, 'sc1', { at: '2024-05-02T10:00:00-07:00' }), 'first approval');
        const contested = await Promise.all(claimIds.slice(1).map((id, i) => at(i).post(`/v1/claims/${id}/approval`, 'sc1', { at: '2024-05-02T10:00:00-07:00' })));
        const statuses = contested.map((a) => a.status);
        expect(statuses.filter((s) => s >= 500)).toEqual([]);
        const winners = contested.filter((a) => a.status === 201);
        expect(winners).toHaveLength(1);
        for (const loser of contested.filter((a) => a.status !== 201)) {
          expect([422, 409]).toContain(loser.status);
          if (loser.status === 422) expect(loser.body.code).toBe('NoReplacementsRemaining');
        }
        // every node's log holds exactly the two approvals, the first and the winner's
        const position = maxPosition([first.position, ...contested.map((a) => a.body.position)]);
        for (let n = 0; n < NODES; n++) {
          const approvals = await auditEvents(at(n), `planId=${planId}&type=ClaimApproved`, position);
          expect(approvals.map((e) => e.eventId).sort()).toEqual([first.eventIds[0], winners[0].body.eventIds[0]].sort());
        }
      }
    }, 90_000);

    test('one Idempotency-Key sent to two nodes at once: one append, the same answer from both', async () => {
      for (let round = 0; round < 6; round++) {
        const key = `mn-key-${round}-${randomBytes(4).toString('hex')}`;
        const body = purchase(`MN-IK-${round}`, `MN-IK-${round}`);
        const [a, b] = await Promise.all([at(round).post('/v1/plans', 'sales', body, { 'Idempotency-Key': key }), at(round + 1).post('/v1/plans', 'sales', body, { 'Idempotency-Key': key })]);
        expect([a.status, b.status].sort()).toEqual([200, 201]);
        expect(b.body).toEqual(a.body);
        const purchases = await auditEvents(at(round + 2), `planId=${a.body.planId}&type=PlanPurchased`, BigInt(a.body.position));
        expect(purchases.map((e) => e.eventId)).toEqual([a.body.eventIds[0]]);
        // and a third node, later, answers the same again
        const again = await at(round + 2).post('/v1/plans', 'sales', body, { 'Idempotency-Key': key });
        expect(again.status).toBe(200);
        expect(again.body).toEqual(a.body);
      }
      // a claim approval (a command on a contended plan) keyed the same way
      const { planId } = ok(await at(0).post('/v1/plans', 'sales', purchase('MN-IK-C', 'MN-IK-C')), 'purchase');
      const { claimId } = ok(await at(1).post('/v1/claims', 'sc1', claim('MN-IK-C-1', 'MN-IK-C')), 'claim');
      const key = `mn-key-approval-${randomBytes(4).toString('hex')}`;
      const approvals = await Promise.all([0, 1, 2].map((i) => at(i).post(`/v1/claims/${claimId}/approval`, 'sc1', { at: '2024-05-02T10:00:00-07:00' }, { 'Idempotency-Key': key })));
      expect(approvals.map((a) => a.status).sort()).toEqual([200, 200, 201]);
      expect(approvals[1].body).toEqual(approvals[0].body);
      expect(approvals[2].body).toEqual(approvals[0].body);
      const approved = await auditEvents(at(2), `planId=${planId}&type=ClaimApproved`, BigInt(approvals[0].body.position));
      expect(approved).toHaveLength(1);
    }, 60_000);

    test("a refusal made on node A is listed by node B's decision log", async () => {
      ok(await at(0).post('/v1/plans', 'sales', purchase('MN-RF', 'MN-RF')), 'purchase');
      const refused = await at(0).post('/v1/claims', 'sc1', claim('MN-RF-1', 'MN-RF', 'intentional'));
      expect(refused.status).toBe(422);
      expect(refused.body).toMatchObject({ code: 'Excluded', decisionId: expect.any(String), position: expect.stringMatching(/^[1-9]\d*$/) });
      for (const n of [1, 2]) {
        const listed = await at(n).get(`/v1/audit/decisions?outcome=refused&serial=MN-RF&minPosition=${refused.body.position}`);
        expect(listed.status).toBe(200);
        expect(listed.body.items).toEqual([expect.objectContaining({ decisionId: refused.body.decisionId, outcome: 'refused', code: 'Excluded', command: 'OpenClaim' })]);
      }
    }, 30_000);

    test('a write on A is read on B with minPosition; a position beyond the log answers 503 NotCaughtUp, not stale data', async () => {
      const bought = ok(await at(0).post('/v1/plans', 'sales', purchase('MN-RW', 'MN-RW')), 'purchase');
      const plan = await at(1).get(`/v1/plans/${bought.planId}?minPosition=${bought.position}`, 'sales');
      expect(plan.status).toBe(200);
      expect(plan.body.planId).toBe(bought.planId);
      const view = await at(2).get(`/v1/devices/MN-RW/entitlements?at=2024-06-01&minPosition=${bought.position}`, 'sc1');
      expect(view.status).toBe(200);
      expect(view.body).toMatchObject({ serial: 'MN-RW', planId: bought.planId, coverage: 'active' });
      expect(BigInt(view.body.checkpoint)).toBeGreaterThanOrEqual(BigInt(bought.position));

      const beyond = (await headOf(at(1))) + 1000n;
      const waiting = await at(1).get(`/v1/plans/${bought.planId}?minPosition=${beyond}`, 'sales');
      expect(waiting.status).toBe(503);
      expect(waiting.body.code).toBe('NotCaughtUp');
      expect(waiting.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(waiting.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }, 30_000);

    test('the sweep run on every node at once grants each due reward once; a second round grants nothing', async () => {
      // 1-Year plans on a safe-use-reward model whose first term ended long ago: their reward is due
      const planIds: string[] = [];
      for (let i = 0; i < 4; i++) planIds.push(ok(await at(i).post('/v1/plans', 'sales', purchase(`MN-SW-${i}`, `MN-SW-${i}`)), 'purchase').planId);
      const before = await headOf(at(0));
      const grantsOf = async () => {
        const events = await auditEvents(at(1), 'type=WarrantyExtensionGranted', await headOf(at(1)));
        return events.filter((e) => BigInt(e.position) > before);
      };

      const first = await Promise.all(cluster.nodes.map((n) => n.post('/v1/admin/sweeps', 'admin')));
      expect(first.map((a) => a.status)).toEqual([200, 200, 200]);
      const grants = await grantsOf();
      const perPlanAndKind = new Map<string, number>();
      for (const e of grants) perPlanAndKind.set(`${e.streamId} ${e.data.kind}`, (perPlanAndKind.get(`${e.streamId} ${e.data.kind}`) ?? 0) + 1);
      expect([...perPlanAndKind.values()].filter((count) => count !== 1)).toEqual([]);
      for (const planId of planIds) {
        expect(grants.filter((e) => e.data.kind === 'safe-use-reward' && e.streamId.includes(planId))).toHaveLength(1);
      }
      expect(first.reduce((sum, a) => sum + a.body.granted, 0)).toBe(grants.length);

      const second = await Promise.all(cluster.nodes.map((n) => n.post('/v1/admin/sweeps', 'admin')));
      expect(second.map((a) => a.status)).toEqual([200, 200, 200]);
      expect(second.map((a) => a.body.granted)).toEqual([0, 0, 0]);
      expect(await grantsOf()).toHaveLength(grants.length);

      // the lease covers a sweep, not the time after it: a sweep on any node after another's ended does the work
      for (let i = 0; i < NODES; i++) {
        const { planId } = ok(await at(i).post('/v1/plans', 'sales', purchase(`MN-SW-N${i}`, `MN-SW-N${i}`)), 'purchase');
        const swept = await at(i + 1).post('/v1/admin/sweeps', 'admin');
        expect(swept.status).toBe(200);
        expect(swept.body).toMatchObject({ granted: 1 });
        expect(swept.body.leaseHeldBy).toBeUndefined();
        expect((await grantsOf()).filter((e) => e.streamId.includes(planId))).toHaveLength(1);
      }
    }, 60_000);

    test('one node SIGKILLed under load: nothing acknowledged is lost, the survivors agree, the node restarted under load catches up', async () => {
      const victim = cluster.nodes[2];
      const survivors = [cluster.nodes[0], cluster.nodes[1]];
      const acked: { eventIds: string[]; position: string }[] = [];
      const serials = new Set<string>();
      const failures: string[] = [];
      let resent = 0;
      let unavailable = 0;
      let stop = false;
      let victimDown = false;

      // Two clients, each request with an Idempotency-Key, spread over the three nodes; a request its node
      // did not answer (the victim is down or restarting) goes, the same, to the next node.
      const client = async (c: number) => {
        const units: string[] = [];
        const opened: string[] = [];
        for (let i = 0; !stop && i < 200; i++) {
          const step = i % 4;
          const request =
            step === 2 && units.length > 0
              ? { path: '/v1/claims', as: 'sc1' as const, body: claim(`MN-K${c}-${i}`, units.shift()!), serial: null }
              : step === 3 && opened.length > 0
                ? { path: `/v1/claims/${opened.shift()!}/approval`, as: 'sc1' as const, body: { at: '2024-05-02T10:00:00-07:00' }, serial: null }
                : { path: '/v1/plans', as: 'sales' as const, body: purchase(`MN-K${c}-${i}`, `MN-K${c}-${i}`), serial: `MN-K${c}-${i}` };
          const key = `mn-kill-${c}-${i}`;
          let settled = false;
          for (let attempt = 0; attempt < NODES * 5 && !settled; attempt++) {
            const node = cluster.node(c + i + attempt);
            let answer: Answer;
            try {
              answer = await node.post(request.path, request.as, request.body, { 'Idempotency-Key': key });
            } catch (error) {
              if (node === victim && victimDown) {
                resent++;
                continue;
              }
              failures.push(`${node.name} ${request.path}: ${String(error)}`);
              settled = true;
              break;
            }
            if (answer.status === 503) {
              // not acknowledged (a node catching up, a busy store): the same request again, on the next node
              unavailable++;
              await sleep(100);
              continue;
            }
            if (answer.status === 201 || answer.status === 200) {
              acked.push({ eventIds: answer.body.eventIds, position: answer.body.position });
              if (request.serial) {
                serials.add(request.serial);
                units.push(request.serial);
              } else if (request.path === '/v1/claims') opened.push(answer.body.claimId);
            } else {
              failures.push(`${node.name} ${request.path}: ${answer.status} ${JSON.stringify(answer.body)}`);
            }
            settled = true;
          }
          if (!settled) failures.push(`${request.path} (${key}): no node acknowledged it in ${NODES * 5} attempts`);
        }
      };
      /** Waits (at most `ms`) until `count` more commands were acknowledged, and at least `minMs`. */
      const progress = async (count: number, minMs: number, ms = 15_000) => {
        const target = acked.length + count;
        const started = Date.now();
        while ((acked.length < target || Date.now() - started < minMs) && Date.now() - started < ms && !stop) await sleep(50);
      };
      const load = Promise.all([client(0), client(1)]).finally(() => (stop = true));
      await progress(20, 1000);
      victimDown = true;
      await victim.kill('SIGKILL');
      const ackedWhenKilled = acked.length;
      await progress(20, 1000);
      // restarted on its own read store while the others keep writing
      victim.start();
      await progress(20, 1500);
      stop = true;
      await load;
      await victim.waitReady(45_000);
      victimDown = false;
      expect(failures).toEqual([]);
      expect(ackedWhenKilled).toBeGreaterThan(10);
      expect(acked.length).toBeGreaterThan(ackedWhenKilled);

      // every acknowledged event is in the log: in the store itself, and in every node's audit log
      const ackedIds = acked.flatMap((a) => a.eventIds);
      const stored = await cluster.store.eventIds();
      expect(ackedIds.filter((id) => !stored.has(id))).toEqual([]);
      const head = await headOf(survivors[0]);
      expect(head).toBeGreaterThanOrEqual(maxPosition(acked.map((a) => a.position)));
      for (const node of cluster.nodes) {
        const events = await auditEvents(node, '', head);
        expect(events.map((e) => Number(e.position))).toEqual(Array.from({ length: Number(head) }, (_, i) => i + 1));
        const listed = new Set(events.map((e) => e.eventId));
        expect(ackedIds.filter((id) => !listed.has(id))).toEqual([]);
        // recordedAt is the store's: it never goes back along the log, whichever node wrote
        const backwards = events.filter((e, i) => i > 0 && Date.parse(e.recordedAt) < Date.parse(events[i - 1].recordedAt));
        expect(backwards.map((e) => e.position)).toEqual([]);
      }

      // every node agrees on every unit, and verifies the whole chain
      const knownAt = new Date().toISOString();
      const views = async (node: NodeProcess) => {
        const out: Record<string, unknown> = {};
        for (const serial of [...serials].sort()) {
          const answer = await node.get(`/v1/devices/${serial}/entitlements?at=2024-06-01T00:00:00Z&knownAt=${encodeURIComponent(knownAt)}&minPosition=${head}`, 'sc1');
          if (answer.status !== 200) throw new Error(`${node.name} ${serial}: ${answer.status} ${JSON.stringify(answer.body)}`);
          out[serial] = answer.body;
        }
        return out;
      };
      const reference = await views(survivors[0]);
      expect(Object.values(reference).some((v: any) => v.replacement.used > 0 || v.replacement.remaining < 2)).toBe(true);
      expect(await views(survivors[1])).toEqual(reference);
      expect(await views(victim)).toEqual(reference);
      for (const node of cluster.nodes) {
        const verified = await node.get('/v1/audit/verify?full=true');
        expect(verified.status).toBe(200);
        expect(verified.body).toMatchObject({ ok: true, events: Number(head), firstBrokenPosition: null });
      }
      console.info(`multinode (${label}): ${acked.length} commands acknowledged (${ackedWhenKilled} before the kill), ${resent} requests resent to another node after no answer, ${unavailable} after a 503, ${head} events`);
    }, 120_000);

    test('checkpoints signed on every node at once: one per head, listed alike by every node', async () => {
      const signed = await Promise.all(cluster.nodes.map((n) => n.post('/v1/audit/checkpoints', 'admin')));
      expect(signed.map((a) => a.status)).toEqual([201, 201, 201]);
      expect(signed[1].body).toEqual(signed[0].body);
      expect(signed[2].body).toEqual(signed[0].body);
      const lists = await Promise.all(cluster.nodes.map((n) => n.get('/v1/audit/checkpoints?limit=1000')));
      expect(lists[0].body.items.filter((c: any) => c.position === signed[0].body.position)).toEqual([signed[0].body]);
      expect(lists[1].body).toEqual(lists[0].body);
      expect(lists[2].body).toEqual(lists[0].body);
      const verified = await at(1).get('/v1/audit/verify');
      expect(verified.body.checkpoint).toMatchObject({ position: signed[0].body.position, holds: true });
    }, 30_000);

    if (label === 'postgres') {
      test('connections dropped under load (pg_terminate_backend, three times) are survived: nothing acknowledged is lost, readiness returns, every node has every write', async () => {
        const acked: { planId: string; eventIds: string[]; position: string }[] = [];
        const failures: string[] = [];
        const notReady = new Set<string>();
        let retried = 0;
        let stop = false;
        // one client per node, each request with an Idempotency-Key, a 503 retried with the same key
        const client = async (c: number) => {
          for (let i = 0; !stop && i < 150; i++) {
            const body = purchase(`MN-DR-${c}-${i}`, `MN-DR-${c}-${i}`);
            let answer: Answer | null = null;
            for (let attempt = 0; attempt < 50; attempt++) {
              answer = await at(c).post('/v1/plans', 'sales', body, { 'Idempotency-Key': `mn-drop-${c}-${i}` });
              if (answer.status !== 503) break;
              retried++;
              await sleep(100);
            }
            if (answer!.status === 201 || answer!.status === 200) acked.push(answer!.body);
            else failures.push(`${at(c).name}: ${answer!.status} ${JSON.stringify(answer!.body)}`);
          }
        };
        const notLive: string[] = [];
        const sampler = async () => {
          while (!stop) {
            for (const node of cluster.nodes) {
              if ((await node.get('/health/ready', null)).status !== 200) notReady.add(node.name);
              const live = await node.get('/health/live', null);
              if (live.status !== 200) notLive.push(`${node.name}: ${live.status}`);
            }
            await sleep(50);
          }
        };
        const load = Promise.all([client(0), client(1), client(2), sampler()]).finally(() => (stop = true));
        let ended = 0;
        for (let drop = 0; drop < 3; drop++) {
          await sleep(600);
          const now = await cluster.store.dropConnections!();
          // each node holds at least its LISTEN connection
          expect(now).toBeGreaterThanOrEqual(NODES);
          ended += now;
        }
        await sleep(600);
        stop = true;
        await load;
        expect(failures).toEqual([]);
        expect(acked.length).toBeGreaterThan(10);
        // the process stayed up whatever the database did
        expect(notLive).toEqual([]);

        const stored = await cluster.store.eventIds();
        expect(acked.flatMap((a) => a.eventIds).filter((id) => !stored.has(id))).toEqual([]);
        await Promise.all(cluster.nodes.map((n) => n.waitReady(30_000)));
        const position = maxPosition(acked.map((w) => w.position));
        for (const node of cluster.nodes) {
          const purchases = await auditEvents(node, 'type=PlanPurchased', position);
          const planIds = new Set(purchases.map((e) => e.data.planId));
          expect(acked.filter((w) => !planIds.has(w.planId)).map((w) => w.planId)).toEqual([]);
          expect(purchases.length).toBe(planIds.size);
          // and the runner is following the log live again (not stuck retrying)
          let health: any = null;
          for (let wait = 0; wait < 50 && health?.projection.state !== 'live'; wait++) {
            if (wait > 0) await sleep(100);
            health = (await node.get('/health/ready', null)).body;
          }
          expect({ node: node.name, state: health.projection.state, status: health.status }).toEqual({ node: node.name, state: 'live', status: 'ok' });
          expect(BigInt(health.projection.checkpoint)).toBeGreaterThanOrEqual(position);
        }
        // readiness may have dropped meanwhile; it is back everywhere now
        console.info(
          `multinode (postgres): ${ended} connections ended in 3 drops under load; ${acked.length} writes acknowledged, ${retried} answers 503 retried; ` +
            `nodes seen not ready meanwhile: ${[...notReady].join(', ') || 'none'}`,
        );
      }, 90_000);

      for (const dropConnections of [true, false]) {
        const how = dropConnections ? 'the connections dropped' : 'the connections kept (a pooler in front)';
        test(`a failover that lost the tail of the log, ${how}: every node notices, rebuilds, and follows the new log`, async () => {
          const before = await headOf(at(0));
          const tag = dropConnections ? 'D' : 'P';
          const lost: { planId: string; position: string }[] = [];
          for (let i = 0; i < 4; i++) lost.push(ok(await at(i).post('/v1/plans', 'sales', purchase(`MN-LOST-${tag}${i}`, `MN-LOST-${tag}${i}`)), 'purchase'));
          const lostHead = maxPosition(lost.map((w) => w.position));
          // every node has read the writes it is about to lose, and acknowledged some of them
          for (const node of cluster.nodes) expect((await node.get(`/v1/plans/${lost[3].planId}?minPosition=${lostHead}`, 'sales')).status).toBe(200);

          expect(await cluster.store.loseTailAfter!(before, { dropConnections })).toBe(Number(lostHead - before));
          const kept: { planId: string; position: string }[] = [];
          const write = async (i: number) => {
            let answer: Answer | null = null;
            for (let attempt = 0; attempt < 40; attempt++) {
              answer = await at(i).post('/v1/plans', 'sales', purchase(`MN-NEW-${tag}${i}`, `MN-NEW-${tag}${i}`), { 'Idempotency-Key': `mn-new-${tag}${i}` });
              if (answer.status !== 503) break;
              await sleep(250);
            }
            kept.push(ok(answer!, `write ${i} after the failover`));
          };
          /** Within a bounded wait, every node's read models are the log's, event for event, and it is ready. */
          const converged = async () => {
            const head = await headOf(at(0));
            const log = [...(await cluster.store.eventIds())].sort();
            expect(log).toHaveLength(Number(head));
            for (const node of cluster.nodes) {
              let last: unknown = null;
              const until = Date.now() + 30_000;
              while (Date.now() < until) {
                last = await auditEvents(node, '', null).then(
                  (events) => events.map((e) => e.eventId).sort(),
                  (error: Error) => error.message,
                );
                if (JSON.stringify(last) === JSON.stringify(log)) break;
                await sleep(200);
              }
              expect({ node: node.name, listed: last }).toEqual({ node: node.name, listed: log });
              for (const w of lost) expect((await node.get(`/v1/plans/${w.planId}`, 'sales')).status).toBe(404);
              for (const w of kept) expect((await node.get(`/v1/plans/${w.planId}`, 'sales')).status).toBe(200);
              await node.waitReady(30_000);
            }
          };

          // the new log first stays shorter than the lost one: nothing may wait for the lost positions
          await write(0);
          expect(BigInt(kept[0].position)).toBeLessThan(lostHead);
          await converged();
          // then grows past them: the events at the lost positions are new ones
          for (let i = 1; i < 8; i++) await write(i);
          expect(maxPosition(kept.map((w) => w.position))).toBeGreaterThan(lostHead);
          await converged();
        }, 120_000);
      }
    }
  });
}

multiNodeSuite('sqlite', sqliteStore);

const pgServer = postgresUrl();
if (!pgServer) {
  console.warn('The multi-node tests on PostgreSQL skipped: CARELEDGER_DATABASE_URL is not set to a server on this machine (eval "$(bash .ci/postgres.sh)" starts one).');
}
multiNodeSuite('postgres', pgServer ? (dir) => postgresStore(pgServer, dir) : null);
