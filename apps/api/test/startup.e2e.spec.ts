/**
 * Starting the built app (`npm run build` first), as an operator does: configuration errors are one
 * sentence naming the variable and the fix, exit code 2 and no stack trace (a fatal JSON record
 * with LOG_FORMAT=json); the banner is a few plain lines with the URL that really answers (on a
 * wildcard bind: 127.0.0.1 and the host name), the store, the dashboard, the docs and the tokens
 * file, and a JSON record when the logs are JSON; a second first start (tokens file removed) does not
 * register SC-1 again.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const main = join(root, 'dist', 'apps', 'api', 'apps', 'api', 'src', 'main.js');
const catalogue = join(root, 'libs', 'domain', 'src', 'catalogue', 'catalogue.v1.json');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function start(dir: string, env: Record<string, string>): Run {
  const child = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH, CARELEDGER_DB: join(dir, 'data', 'ledger.sqlite'), CARELEDGER_SWEEP_INTERVAL_SECONDS: '0', CARELEDGER_CHECKPOINT_INTERVAL_SECONDS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Runs the app to its exit (at most 20 s). */
async function runToExit(dir: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = start(dir, env);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), 20_000);
  const code = await run.exited;
  clearTimeout(timer);
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

async function waitForLine(run: Run, pattern: RegExp, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!pattern.test(run.stdout())) {
    if (run.child.exitCode !== null) throw new Error(`the app exited with ${run.child.exitCode}: ${run.stdout()} ${run.stderr()}`);
    if (Date.now() > until) throw new Error(`no ${pattern} in: ${run.stdout()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stop(run: Run): Promise<number | null> {
  if (run.child.exitCode !== null) return run.child.exitCode;
  run.child.kill('SIGTERM');
  return run.exited;
}

describe('starting the built app', () => {
  let dir: string;

  beforeAll(() => {
    if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` (npm test does it in pretest)`);
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'careledger-startup-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** One line on stderr naming the variable, nothing on stdout, exit 2, no stack trace. */
  async function refuses(env: Record<string, string>, variable: string, sentence: RegExp) {
    const { code, stdout, stderr } = await runToExit(dir, { LOG_FORMAT: 'text', ...env });
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    const lines = stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(variable);
    expect(lines[0]).toMatch(sentence);
    expect(stderr).not.toMatch(/\n\s+at /);
  }

  describe('configuration errors: the variable, the fix, exit code 2, no stack trace', () => {
    test('PORT=abc', () => refuses({ PORT: 'abc' }, 'PORT', /^PORT must be a port number from 0 to 65535, not "abc": set PORT=3000 \(or another free port\), or unset it for 3000\.$/));

    test('a port another program holds (EADDRINUSE)', async () => {
      const port = await freePort();
      const holder: Server = await new Promise((resolve) => {
        const s = createServer().listen(port, '127.0.0.1', () => resolve(s));
      });
      try {
        await refuses({ PORT: String(port), HOST: '127.0.0.1' }, 'PORT', new RegExp(`^Port ${port} on 127\\.0\\.0\\.1 is already in use \\(another CareLedger, or another program\\): stop it, or set PORT to a free port\\.$`));
      } finally {
        holder.close();
      }
    });

    test('a tokens file that does not exist', () =>
      refuses({ CARELEDGER_TOKENS_FILE: join(dir, 'nope.json') }, 'CARELEDGER_TOKENS_FILE', /names .*nope\.json, which does not exist: create it .*or unset CARELEDGER_TOKENS_FILE/));

    test('a tokens file that cannot be read (a directory)', () => {
      mkdirSync(join(dir, 'tokens-dir'));
      return refuses({ CARELEDGER_TOKENS_FILE: join(dir, 'tokens-dir') }, 'CARELEDGER_TOKENS_FILE', /which is a directory, not a file: point CARELEDGER_TOKENS_FILE at a file this user can read/);
    });

    test('a tokens file that is not JSON, or has a bad entry', async () => {
      writeFileSync(join(dir, 'bad.json'), '[{"token": "x"');
      await refuses({ CARELEDGER_TOKENS_FILE: join(dir, 'bad.json') }, 'CARELEDGER_TOKENS_FILE', /bad\.json, which is not valid JSON \(.*\): fix it/);
      writeFileSync(join(dir, 'role.json'), JSON.stringify([{ token: 'long-enough-token', role: 'janitor' }]));
      await refuses({ CARELEDGER_TOKENS_FILE: join(dir, 'role.json') }, 'CARELEDGER_TOKENS_FILE', /has a bad entry \(tokens\[0\]: unknown role "janitor"\): fix it/);
    });

    test('an invalid CARELEDGER_CATALOGUE: missing, not JSON, not a catalogue, incomplete', async () => {
      await refuses({ CARELEDGER_CATALOGUE: join(dir, 'none.json') }, 'CARELEDGER_CATALOGUE', /none\.json, which does not exist: fix the file .* or unset CARELEDGER_CATALOGUE to use the built-in catalogue\.$/);
      writeFileSync(join(dir, 'text.json'), 'fees: none\n');
      await refuses({ CARELEDGER_CATALOGUE: join(dir, 'text.json') }, 'CARELEDGER_CATALOGUE', /which is not valid JSON \(/);
      writeFileSync(join(dir, 'empty.json'), '{"version": "x"}');
      await refuses({ CARELEDGER_CATALOGUE: join(dir, 'empty.json') }, 'CARELEDGER_CATALOGUE', /is not a catalogue \(it lacks regions, policyVersions, rules, models, fees\)/);
      const data = JSON.parse(readFileSync(catalogue, 'utf8'));
      delete data.regions.JP;
      writeFileSync(join(dir, 'no-jp.json'), JSON.stringify(data));
      await refuses({ CARELEDGER_CATALOGUE: join(dir, 'no-jp.json') }, 'CARELEDGER_CATALOGUE', /is not a catalogue this node can use \(catalogue .* is incomplete; region JP missing/);
    });

    test('both CARELEDGER_DATABASE_URL and EVENTSTORE_CONNECTION_STRING', () =>
      refuses(
        { CARELEDGER_DATABASE_URL: 'postgres://u:p@127.0.0.1:1/db', EVENTSTORE_CONNECTION_STRING: 'esdb://127.0.0.1:1?tls=false' },
        'CARELEDGER_DATABASE_URL',
        /^Both CARELEDGER_DATABASE_URL \(PostgreSQL\) and EVENTSTORE_CONNECTION_STRING \(EventStoreDB\) are set, and a node has one store: unset one of them\.$/,
      ));

    test('other values: LOG_FORMAT (said in JSON, the format for a pipe), LOG_LEVEL, a number', async () => {
      const format = await runToExit(dir, { LOG_FORMAT: 'xml' });
      expect(format.code).toBe(2);
      expect(JSON.parse(format.stdout)).toMatchObject({ level: 60, variable: 'LOG_FORMAT', msg: expect.stringMatching(/^LOG_FORMAT must be json or text, not "xml"/) });
      await refuses({ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, not "loud"/);
      await refuses({ CARELEDGER_READ_WAIT_MS: '5s' }, 'CARELEDGER_READ_WAIT_MS', /^CARELEDGER_READ_WAIT_MS must be a whole number of milliseconds, not "5s"/);
    });

    test('with LOG_FORMAT=json the error is one fatal JSON record naming the variable', async () => {
      const { code, stdout, stderr } = await runToExit(dir, { LOG_FORMAT: 'json', PORT: 'abc' });
      expect(code).toBe(2);
      expect(stderr).toBe('');
      const lines = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toEqual([expect.objectContaining({ level: 60, variable: 'PORT', msg: expect.stringMatching(/^PORT must be a port number/) })]);
      expect(lines[0].stack).toBeUndefined();
    });
  });

  test('the banner: plain lines with the URL that answers on a wildcard bind, the store, the dashboard, the docs, the tokens file', async () => {
    const port = await freePort();
    const run = start(dir, { LOG_FORMAT: 'text', HOST: '0.0.0.0', PORT: String(port) });
    try {
      await waitForLine(run, /^ {2}tokens {5}.*$/m);
      const db = join(dir, 'data', 'ledger.sqlite');
      const lines = run.stdout().split('\n');
      const first = lines.findIndex((l) => l.startsWith('CareLedger '));
      expect(lines.slice(first, first + 5)).toEqual([
        `CareLedger ${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version} is listening on all interfaces (0.0.0.0), port ${port}: http://127.0.0.1:${port} on this machine, http://${hostname()}:${port} from others`,
        `  dashboard  http://127.0.0.1:${port}/dashboard`,
        `  docs       http://127.0.0.1:${port}/docs (OpenAPI document: http://127.0.0.1:${port}/docs-json)`,
        `  store      sqlite: ${db} (read models: ${join(dir, 'data', 'ledger.read.sqlite')})`,
        expect.stringMatching(new RegExp(`^ {2}tokens {5}${join(dir, 'data', 'tokens.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(written now: .*SC-1 is in the directory in region US\\)$`)),
      ]);
      // nothing on standard output is JSON; the URL it gives answers
      expect(run.stdout().split('\n').filter((l) => l.startsWith('{'))).toEqual([]);
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/dashboard`)).status).toBe(200);
      // the route table Nest prints at start-up is debug, not info
      expect(run.stdout()).not.toContain('Mapped {');
    } finally {
      expect(await stop(run)).toBe(0);
    }
  }, 30_000);

  test('JSON logs stay JSON: the banner is one record with the URL, the store and the tokens file', async () => {
    const port = await freePort();
    const run = start(dir, { LOG_FORMAT: 'json', HOST: '127.0.0.1', PORT: String(port) });
    try {
      await waitForLine(run, /is listening on/);
      const records = run.stdout().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(records.find((r) => typeof r.msg === 'string' && r.msg.includes('is listening on'))).toMatchObject({
        level: 30,
        msg: `CareLedger ${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version} is listening on 127.0.0.1, port ${port} (this machine only): http://127.0.0.1:${port}`,
        url: `http://127.0.0.1:${port}`,
        dashboard: `http://127.0.0.1:${port}/dashboard`,
        docs: `http://127.0.0.1:${port}/docs`,
        store: 'sqlite',
        storeLocation: join(dir, 'data', 'ledger.sqlite'),
        tokensFile: join(dir, 'data', 'tokens.json'),
        tokensGenerated: true,
      });
    } finally {
      expect(await stop(run)).toBe(0);
    }
  }, 30_000);

  test('a first start again (the tokens file removed) leaves SC-1 as the directory has it: registered once', async () => {
    const first = start(dir, { LOG_FORMAT: 'json', HOST: '127.0.0.1', PORT: String(await freePort()) });
    await waitForLine(first, /is listening on/);
    expect(first.stdout()).toContain('registered service center SC-1 in region US');
    expect(await stop(first)).toBe(0);
    rmSync(join(dir, 'data', 'tokens.json'));
    const port = await freePort();
    const again = start(dir, { LOG_FORMAT: 'json', HOST: '127.0.0.1', PORT: String(port) });
    try {
      await waitForLine(again, /is listening on/);
      expect(again.stdout()).toContain('service center SC-1 is in the directory already (region US)');
      const tokens = JSON.parse(readFileSync(join(dir, 'data', 'tokens.json'), 'utf8')) as { token: string; role: string }[];
      const auditor = tokens.find((t) => t.role === 'auditor')!.token;
      const events = await fetch(`http://127.0.0.1:${port}/v1/audit/events?type=ServiceCenterRegistered`, { headers: { authorization: `Bearer ${auditor}` } });
      const body = (await events.json()) as { items: { actor: string; data: { centerId: string; region: string } }[] };
      expect(body.items.map((e) => [e.actor, e.data.centerId, e.data.region])).toEqual([['system:first-start', 'SC-1', 'US']]);
    } finally {
      expect(await stop(again)).toBe(0);
    }
  }, 40_000);
});
