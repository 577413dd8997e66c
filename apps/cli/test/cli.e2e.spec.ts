/**
 * The command line as an operator meets it: every command run as a child process (the TypeScript
 * sources through libs/testing/register.js, so no build is needed), in a temporary directory with
 * none of the server's variables set, bounded in time. The table is each command x (no arguments,
 * a bad value, an unknown option, --help) with its exit code and message; then the behaviours the
 * issue named: --help does nothing, a missing store is not created, `export | head` ends quietly,
 * seed stays out of the live ledger, --version reads package.json. No answer is ever a stack trace.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { careledger as run, Ran, ROOT, STACK } from './support';

function careledger(args: string[], cwd: string, opts: { env?: Record<string, string>; stopReadingAfter?: number } = {}): Promise<Ran> {
  return run(args, cwd, opts.env, opts);
}

let work: string;
/** A small store filled by `seed` (also the proof that seed works into a separate store). */
let store: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'careledger-cli-'));
  store = join(work, 'seeded', 'ledger.sqlite');
  const seeded = await careledger(['seed', '--db', store, '--devices', '40', '--quiet', '--no-project'], work);
  if (seeded.code !== 0) throw new Error(`seed failed: ${seeded.code} ${seeded.stderr}`);
}, 60_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A fresh, empty directory to run in (the default ./data must stay absent). */
function emptyDir(): string {
  return mkdtempSync(join(work, 'run-'));
}

type Case = [command: string, situation: string, args: string[], code: number, stream: 'stdout' | 'stderr', message: RegExp];

const TABLE: Case[] = [
  // rebuild
  ['rebuild', 'no arguments', [], 2, 'stderr', /^careledger rebuild: there is no event store at .*data\/careledger\.sqlite \(nothing was created\)/],
  ['rebuild', 'bad value', ['--db'], 2, 'stderr', /^careledger rebuild: --db needs a value \(FILE\)/],
  ['rebuild', 'unknown option', ['--bogus'], 2, 'stderr', /^careledger rebuild: unknown option --bogus\nRun `careledger rebuild --help`/],
  ['rebuild', '--help', ['--help'], 0, 'stdout', /^usage: careledger rebuild \[--db FILE\] \[--read-db FILE\]/],
  // replay
  ['replay', 'no arguments', [], 2, 'stderr', /^careledger replay: --serial S is required/],
  ['replay', 'bad value', ['--serial', 'SN-1', '--at', 'garbage'], 2, 'stderr', /^careledger replay: --at must be an ISO-8601 instant with an offset \(.*\) or a date YYYY-MM-DD; got "garbage"/],
  ['replay', 'unknown option', ['--serial', 'SN-1', '--bogus'], 2, 'stderr', /^careledger replay: unknown option --bogus/],
  ['replay', '--help', ['--help'], 0, 'stdout', /^usage: careledger replay --serial S \[--at T\] \[--known-at K\] \[--json\]/],
  // verify
  ['verify', 'no arguments', [], 2, 'stderr', /^careledger verify: there is no event store at .*data\/careledger\.sqlite \(nothing was created\)/],
  ['verify', 'bad value', ['--db', 'missing/ledger.sqlite'], 2, 'stderr', /^careledger verify: there is no event store at .*missing\/ledger\.sqlite \(nothing was created\)/],
  ['verify', 'unknown option', ['--fast'], 2, 'stderr', /^careledger verify: unknown option --fast/],
  ['verify', '--help', ['-h'], 0, 'stdout', /^usage: careledger verify/],
  // export
  ['export', 'no arguments', [], 2, 'stderr', /^careledger export: there is no event store at/],
  ['export', 'bad value', ['--out'], 2, 'stderr', /^careledger export: --out needs a value \(FILE\)/],
  ['export', 'unknown option', ['--json'], 2, 'stderr', /^careledger export: unknown option --json/],
  ['export', '--help', ['--help'], 0, 'stdout', /^usage: careledger export \[--out FILE\]/],
  // import
  ['import', 'no arguments', [], 2, 'stderr', /^careledger import: --in FILE is required/],
  ['import', 'bad value', ['--in', '/nonexistent'], 2, 'stderr', /^careledger import: --in \/nonexistent: the file does not exist/],
  ['import', 'unknown option', ['--in', 'x.ndjson', '--force'], 2, 'stderr', /^careledger import: unknown option --force/],
  ['import', '--help', ['--help'], 0, 'stdout', /^usage: careledger import --in FILE/],
  // sweep
  ['sweep', 'no arguments', [], 2, 'stderr', /^careledger sweep: there is no event store at/],
  ['sweep', 'bad value', ['--now', 'garbage'], 2, 'stderr', /^careledger sweep: --now must be an ISO-8601 instant with an offset, e\.g\. .*; got "garbage"/],
  ['sweep', 'unknown option', ['--dry-run'], 2, 'stderr', /^careledger sweep: unknown option --dry-run/],
  ['sweep', '--help', ['--help'], 0, 'stdout', /^usage: careledger sweep \[--now T\]/],
  // seed
  ['seed', 'no arguments', [], 2, 'stderr', /^careledger seed: --db FILE is required: seed writes synthetic units, which can never be removed from a ledger/],
  ['seed', 'bad value', ['--db', 'seed/l.sqlite', '--devices', '0'], 2, 'stderr', /^careledger seed: --devices must be a whole number from 1; got "0"/],
  ['seed', 'unknown option', ['--db', 'seed/l.sqlite', '--devices', '2', '--units', '3'], 2, 'stderr', /^careledger seed: unknown option --units/],
  ['seed', '--help', ['--help'], 0, 'stdout', /^usage: careledger seed --db FILE --devices N/],
  // verify-statement (its checks of statements: apps/api/test/evidence.int.spec.ts)
  ['verify-statement', 'no arguments', [], 2, 'stderr', /^careledger verify-statement: FILE is required \(the statement, as JSON\)/],
  ['verify-statement', 'bad value', ['missing.json', '--public-key', 'key.pem'], 2, 'stderr', /^careledger verify-statement: FILE missing\.json is not a file/],
  ['verify-statement', 'unknown option', ['--bogus'], 2, 'stderr', /^careledger verify-statement: unknown option --bogus/],
  ['verify-statement', '--help', ['--help'], 0, 'stdout', /^usage: careledger verify-statement FILE \[--public-key FILE\] \[--embedded-key\]/],
  // the program itself
  ['(none)', 'no arguments', [], 2, 'stderr', /^usage: careledger <command> \[options\]\n[\s\S]*\n {2}seed /],
  ['(none)', 'unknown command', ['frobnicate'], 2, 'stderr', /^careledger: unknown command "frobnicate"\nRun `careledger --help`/],
  ['(none)', 'unknown option', ['--bogus'], 2, 'stderr', /^careledger: unknown option --bogus \(a command comes first\)/],
  ['(none)', '--help', ['--help'], 0, 'stdout', /^usage: careledger <command> \[options\]/],
  ['(none)', 'help <command>', ['help', 'replay'], 0, 'stdout', /^usage: careledger replay --serial S/],
];

describe('careledger: each command x (no arguments, bad value, unknown option, --help)', () => {
  const rows = TABLE.map(([command, situation, args, code, stream, message]) => ({ command, situation, args, code, stream, message }));
  test.each(rows)('$command, $situation: exit $code, $stream $message', async ({ command, args: rest, code, stream, message }) => {
    const cwd = emptyDir();
    const ran = await careledger(command === '(none)' ? rest : [command, ...rest], cwd);
    expect({ code: ran.code, [stream]: ran[stream] }).toEqual({ code, [stream]: expect.stringMatching(message) });
    // the other stream stays quiet, nothing is a stack trace, and nothing was created where it ran
    expect(ran[stream === 'stdout' ? 'stderr' : 'stdout']).toBe('');
    expect(ran.stderr).not.toMatch(STACK);
    expect(readdirSync(cwd)).toEqual([]);
  });
});

describe('careledger: what the issue found, one by one', () => {
  test('replay --serial with no value says so (it used to look up the serial "true")', async () => {
    const ran = await careledger(['replay', '--db', store, '--serial'], emptyDir());
    expect(ran).toMatchObject({ code: 2, stdout: '' });
    expect(ran.stderr).toMatch(/^careledger replay: --serial needs a value \(S\)/);
    // followed by another option, the option is not taken as the serial
    expect((await careledger(['replay', '--db', store, '--serial', '--json'], emptyDir())).stderr).toMatch(/--serial needs a value/);
  });

  test('--at and --known-at are checked as the API checks them: a date is an instant only for --at', async () => {
    const known = await careledger(['replay', '--db', store, '--serial', 'U1-000000', '--known-at', '2024-01-01'], emptyDir());
    expect(known).toMatchObject({ code: 2, stdout: '' });
    expect(known.stderr).toMatch(/--known-at must be an ISO-8601 instant with an offset.*got "2024-01-01"/);
    const noOffset = await careledger(['replay', '--db', store, '--serial', 'U1-000000', '--at', '2024-01-01T10:00:00'], emptyDir());
    expect(noOffset.stderr).toMatch(/--at must be/);
    const ok = await careledger(['replay', '--db', store, '--serial', 'U1-000000', '--at', '2025-01-01', '--known-at', new Date().toISOString(), '--json'], emptyDir());
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ serial: 'U1-000000', at: expect.stringMatching(/^2025-01-01T00:00:00/) });
  });

  test('an unknown serial is a problem found (exit 1), not a usage error', async () => {
    const ran = await careledger(['replay', '--db', store, '--serial', 'NO-SUCH-UNIT'], emptyDir());
    expect(ran).toMatchObject({ code: 1, stdout: '' });
    expect(ran.stderr).toMatch(/no record of NO-SUCH-UNIT/);
    expect((await careledger(['replay', '--db', store, '--serial', 'has space'], emptyDir())).stderr).toMatch(/--serial must be a serial/);
  });

  test('rebuild --help prints and rebuilds nothing; without --help the same line rebuilds', async () => {
    const readDb = join(emptyDir(), 'fresh.read.sqlite');
    const help = await careledger(['rebuild', '--db', store, '--read-db', readDb, '--help'], emptyDir());
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: careledger rebuild/);
    expect(existsSync(readDb)).toBe(false);
    const rebuilt = await careledger(['rebuild', '--db', store, '--read-db', readDb], emptyDir());
    expect(rebuilt.code).toBe(0);
    expect(JSON.parse(rebuilt.stdout)).toMatchObject({ events: expect.any(Number), position: expect.any(String) });
    expect(existsSync(readDb)).toBe(true);
  });

  test('verify --db on a path that does not exist creates nothing; on the seeded store it reports ok', async () => {
    const cwd = emptyDir();
    const missing = join(cwd, 'nowhere', 'ledger.sqlite');
    const ran = await careledger(['verify', '--db', missing], cwd);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain(`there is no event store at ${missing} (nothing was created)`);
    expect(existsSync(join(cwd, 'nowhere'))).toBe(false);
    const ok = await careledger(['verify', '--db', store], emptyDir());
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, firstBrokenPosition: null });
  });

  test('verify --db on a file that is not a store says so in one line', async () => {
    const cwd = emptyDir();
    const file = join(cwd, 'notes.txt');
    writeFileSync(file, 'not a database, just text that is long enough to have a header '.repeat(4));
    const ran = await careledger(['verify', '--db', file], cwd);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toMatch(new RegExp(`^careledger verify: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not an event store`));
    expect(ran.stderr).not.toMatch(STACK);
  });

  test('export | head: the reader closing the pipe early ends the export quietly (no EPIPE crash)', async () => {
    const ran = await careledger(['export', '--db', store], emptyDir(), { stopReadingAfter: 1 });
    expect(ran.code).toBe(0);
    expect(ran.stderr).not.toMatch(/EPIPE|Error|STACK/);
    expect(ran.stderr).toMatch(/"stopped":"the reader closed the pipe"/);
  });

  test('export --out and import --in round-trip; importing again into the now full store is refused (exit 1)', async () => {
    const cwd = emptyDir();
    const file = join(cwd, 'log.ndjson');
    expect((await careledger(['export', '--db', store, '--out', file], cwd)).code).toBe(0);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(100);
    const target = join(cwd, 'restored', 'ledger.sqlite');
    const imported = await careledger(['import', '--in', file, '--db', target], cwd);
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ imported: lines.length, ok: true });
    const again = await careledger(['import', '--in', file, '--db', target], cwd);
    expect(again).toMatchObject({ code: 1, stdout: '' });
    expect(again.stderr).toMatch(/is not empty: import only into an empty store/);
  });

  test('import of a file that is not an export names the line, without a stack trace', async () => {
    const cwd = emptyDir();
    const file = join(cwd, 'bad.ndjson');
    writeFileSync(file, 'this is not json\n');
    const ran = await careledger(['import', '--in', file, '--db', join(cwd, 'r', 'ledger.sqlite')], cwd);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toMatch(/line 1 is not JSON/);
    expect(ran.stderr).not.toMatch(STACK);
    expect((await careledger(['import', '--in', cwd], cwd)).stderr).toMatch(/--in .*: not a file/);
  });

  test('sweep --now takes an instant with offset only; a valid one sweeps', async () => {
    for (const bad of ['garbage', '2025-01-01', '2025-13-01T00:00:00Z']) {
      const ran = await careledger(['sweep', '--db', store, '--now', bad], emptyDir());
      expect([bad, ran.code]).toEqual([bad, 2]);
    }
    const ok = await careledger(['sweep', '--db', store, '--now', '2026-11-01T00:00:00Z'], emptyDir());
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ examined: expect.any(Number), granted: expect.any(Number) });
  });

  test('seed never writes into the live ledger: --db is required and may not be CARELEDGER_DB or ./data/careledger.sqlite', async () => {
    const cwd = emptyDir();
    const byDefault = await careledger(['seed', '--devices', '2', '--quiet'], cwd);
    expect(byDefault.code).toBe(2);
    const live = await careledger(['seed', '--db', 'data/careledger.sqlite', '--devices', '2', '--quiet'], cwd);
    expect(live.code).toBe(2);
    expect(live.stderr).toMatch(/is the live ledger .*name a separate store/);
    const viaEnv = await careledger(['seed', '--db', join(cwd, 'live.sqlite'), '--devices', '2', '--quiet'], cwd, { env: { CARELEDGER_DB: join(cwd, 'live.sqlite') } });
    expect(viaEnv.code).toBe(2);
    expect(readdirSync(cwd)).toEqual([]);
    // and the store seeded in beforeAll holds the synthetic units, outside any ./data
    expect(statSync(store).size).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(store.replace(/\.sqlite$/, '.seed.json'), 'utf8'))).toMatchObject({ devices: 40 });
  });

  test('seed --workers 2 hands each worker its options once (options given twice are refused)', async () => {
    const cwd = emptyDir();
    const ran = await careledger(['seed', '--db', join(cwd, 'w', 'l.sqlite'), '--read-db=' + join(cwd, 'w', 'r.sqlite'), '--devices', '6', '--workers', '2', '--quiet', '--no-project'], cwd);
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
    expect(JSON.parse(ran.stdout)).toMatchObject({ devices: 6, workers: 2, kinds: { normal: 6 } });
  });

  test('seed --help exits 0 and seeds nothing', async () => {
    const cwd = emptyDir();
    const ran = await careledger(['seed', '--db', join(cwd, 's.sqlite'), '--devices', '3', '--help'], cwd);
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/seed never writes into the live ledger/);
    expect(readdirSync(cwd)).toEqual([]);
  });

  test('--version prints the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V', 'version']) {
      const ran = await careledger([flag], emptyDir());
      expect([flag, ran.code, ran.stdout]).toEqual([flag, 0, `${version}\n`]);
    }
  });

  test('an option given twice, a boolean given a value, a stray argument: each refused with its reason', async () => {
    const cases: [string[], RegExp][] = [
      [['replay', '--serial', 'A', '--serial', 'B'], /--serial is given twice/],
      [['replay', '--serial', 'A', '--json=yes'], /--json takes no value/],
      [['verify', 'now'], /unexpected argument "now"/],
      [['replay', '--serial='], /--serial needs a value \(S\), not an empty string/],
    ];
    for (const [args, message] of cases) {
      const ran = await careledger(args, emptyDir());
      expect([args.join(' '), ran.code, ran.stderr]).toEqual([args.join(' '), 2, expect.stringMatching(message)]);
    }
  });
});
