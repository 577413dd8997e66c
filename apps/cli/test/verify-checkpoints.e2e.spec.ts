/**
 * `careledger verify --checkpoints FILE [--public-key FILE]` as an operator runs it, on real SQLite
 * files: the checkpoints were saved outside the store (the JSON GET /v1/audit/checkpoints answers,
 * or NDJSON an export job appended), then the log was restored from an older copy, rewritten with
 * every hash recomputed after a fee was forged, or the saved file itself was forged. The chain alone
 * passes the first two; the checkpoints do not. Exit codes: 0 good, 1 broken chain, 3 a checkpoint
 * that does not hold, 2 a wrong command line.
 */
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime, SignedCheckpoint } from '@careledger/runtime';
import { careledger, forgeFees, planWithApprovedClaim, positionOf, STACK } from './support';

let dir: string;
let db: string;
/** Checkpoints at three heads, the way GET /v1/audit/checkpoints answers them. */
let saved: SignedCheckpoint[];
let keyPem: string;
/** A copy of the store taken after the first checkpoint (an older backup). */
let backup: string;

const open = (keyFile = join(dir, 'signing-key.pem')) =>
  Runtime.open({ dbPath: db, readDbPath: join(dir, 'ledger.read.sqlite'), signingKeyDefaultFile: keyFile, project: false });

function pristine(name: string): string {
  const copy = join(dir, `${name}.sqlite`);
  copyFileSync(db, copy);
  return copy;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'careledger-cli-checkpoints-'));
  db = join(dir, 'ledger.sqlite');
  const rt = await open();
  await planWithApprovedClaim(rt, 'K1');
  await rt.checkpoints.signHead();
  await rt.close();
  backup = join(dir, 'backup.sqlite');
  copyFileSync(db, backup);
  const again = await open();
  await planWithApprovedClaim(again, 'K2');
  await again.checkpoints.signHead();
  await planWithApprovedClaim(again, 'K3');
  await again.checkpoints.signHead();
  saved = await again.checkpoints.list(null, 100);
  keyPem = again.checkpoints.publicKeyPem;
  await again.close();
  expect(saved).toHaveLength(3);
  // what an operator kept: the answer of GET /v1/audit/checkpoints, and the key of GET /v1/audit/public-key
  writeFileSync(join(dir, 'checkpoints.json'), JSON.stringify({ items: saved, next: null }));
  writeFileSync(join(dir, 'key.pem'), keyPem);
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const verify = (store: string, ...rest: string[]) => careledger(['verify', '--db', store, ...rest], dir);
const withFile = (store: string, file = join(dir, 'checkpoints.json')) => verify(store, '--checkpoints', file, '--public-key', join(dir, 'key.pem'));

describe('careledger verify --checkpoints', () => {
  test('an intact log holds every saved checkpoint: exit 0', async () => {
    const ran = await withFile(pristine('intact'));
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
    expect(JSON.parse(ran.stdout)).toMatchObject({
      ok: true, firstBrokenPosition: null,
      checkpoints: { checked: 3, holding: 3, upTo: saved[2].position, failed: [], key: 'given' },
    });
  });

  test('NDJSON an export job appended (answers and single checkpoints, some twice) reads the same', async () => {
    const file = join(dir, 'appended.ndjson');
    appendFileSync(file, JSON.stringify({ items: saved.slice(0, 2), next: null }) + '\n');
    appendFileSync(file, JSON.stringify({ items: saved.slice(1), next: null }) + '\n');
    appendFileSync(file, JSON.stringify(saved[2]) + '\n\n');
    const ran = await withFile(pristine('ndjson'), file);
    expect(ran.code).toBe(0);
    expect(JSON.parse(ran.stdout).checkpoints).toMatchObject({ checked: 3, holding: 3 });
  });

  test('a log restored from an older copy: the chain passes, the checkpoints above its head do not (exit 3)', async () => {
    const restored = join(dir, 'restored.sqlite');
    copyFileSync(backup, restored);
    expect((await verify(restored)).code).toBe(0); // the chain alone is fooled
    const ran = await withFile(restored);
    expect(ran.code).toBe(3);
    const head = saved[0].position;
    const out = JSON.parse(ran.stdout);
    expect(out).toMatchObject({ ok: true, checkpoints: { checked: 3, holding: 1, upTo: head } });
    expect(out.checkpoints.failed.map((f: { position: string; kind: string }) => [f.position, f.kind])).toEqual([
      [saved[1].position, 'missing'], [saved[2].position, 'missing'],
    ]);
    const lines = ran.stderr.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^careledger verify: checkpoint ${saved[1].position} \\(signed .* by key \\w+\\): the log ends at position ${head}, below this checkpoint: it was truncated`)),
      expect.stringMatching(new RegExp(`^careledger verify: checkpoint ${saved[2].position} .*the log ends at position ${head}, below this checkpoint`)),
    ]);
    expect(ran.stderr).not.toMatch(STACK);
  });

  test('a consistent rewrite (a fee forged, every later hash recomputed): the chain passes, the checkpoints after it do not (exit 3)', async () => {
    const rewritten = pristine('rewritten');
    // the second claim's approval: after the first checkpoint, before the second
    const from = positionOf(rewritten, 'ClaimApproved') + 1;
    expect(forgeFees(rewritten, from, true)).toBe(2);
    expect(JSON.parse((await verify(rewritten)).stdout)).toMatchObject({ ok: true }); // fooled
    const ran = await withFile(rewritten);
    expect(ran.code).toBe(3);
    const out = JSON.parse(ran.stdout);
    expect(out.checkpoints).toMatchObject({ checked: 3, holding: 1, upTo: saved[0].position });
    expect(out.checkpoints.failed.map((f: { kind: string }) => f.kind)).toEqual(['rewritten', 'rewritten']);
    const lines = ran.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(
      `^careledger verify: checkpoint ${saved[1].position} .*: the log holds hash [0-9a-f]{16}… at position ${saved[1].position}, the checkpoint ${saved[1].hash.slice(0, 16)}…: ` +
        `the log was rewritten at or before position ${saved[1].position} and after position ${saved[0].position} \\(the last saved checkpoint that still holds\\)`,
    ));
    expect(lines[1]).toMatch(new RegExp(
      `^careledger verify: checkpoint ${saved[2].position} .*: the log was rewritten at or before position ${saved[1].position} \\(the first saved checkpoint it changed\\) and after position ${saved[0].position}`,
    ));
  });

  test('a fee edited without recomputing the chain: the chain is broken (exit 1), and says where', async () => {
    const edited = pristine('edited');
    const at = positionOf(edited, 'ClaimApproved');
    forgeFees(edited, at, false);
    const ran = await withFile(edited);
    expect(ran.code).toBe(1);
    expect(JSON.parse(ran.stdout)).toMatchObject({ ok: false, firstBrokenPosition: String(at), checkpoints: { holding: 3 } });
    expect(ran.stderr).toMatch(new RegExp(`^careledger verify: the hash chain breaks at position ${at}:`));
  });

  test('a forged checkpoint in the saved file: its signature fails (exit 3), naming its position', async () => {
    const forged = saved.map((c, i) => (i === 1 ? { ...c, hash: c.hash.replace(/^./, (x) => (x === '0' ? '1' : '0')) } : c));
    const file = join(dir, 'forged.json');
    writeFileSync(file, JSON.stringify({ items: forged, next: null }));
    const ran = await withFile(pristine('forged'), file);
    expect(ran.code).toBe(3);
    expect(JSON.parse(ran.stdout).checkpoints.failed).toEqual([{ position: saved[1].position, kind: 'signature', problem: 'the signature does not verify' }]);
    expect(ran.stderr.trim()).toMatch(new RegExp(`^careledger verify: checkpoint ${saved[1].position} .*: its signature does not verify: the saved checkpoint was altered or forged`));
  });

  test('a checkpoint signed by a key not given (rotation): exit 3 until both keys are given', async () => {
    const store = pristine('rotated');
    const rt = await Runtime.open({ dbPath: store, readDbPath: join(dir, 'rotated.read.sqlite'), signingKeyDefaultFile: join(dir, 'new-key.pem'), project: false });
    await planWithApprovedClaim(rt, 'K4');
    const newer = (await rt.checkpoints.signHead())!;
    const newPem = rt.checkpoints.publicKeyPem;
    await rt.close();
    const file = join(dir, 'rotated.json');
    writeFileSync(file, JSON.stringify({ items: [...saved, newer], next: null }));
    const oldOnly = await verify(store, '--checkpoints', file, '--public-key', join(dir, 'key.pem'));
    expect(oldOnly.code).toBe(3);
    expect(oldOnly.stderr).toMatch(new RegExp(`checkpoint ${newer.position} .*signed by a key that is not among the keys given`));
    writeFileSync(join(dir, 'both.pem'), keyPem + newPem);
    const both = await verify(store, '--checkpoints', file, '--public-key', join(dir, 'both.pem'));
    expect(both.code).toBe(0);
    expect(JSON.parse(both.stdout).checkpoints).toMatchObject({ checked: 4, holding: 4, keys: [expect.any(String), expect.any(String)] });
  });

  test('without --public-key: the node\'s own key beside the store, and a warning that this is weaker', async () => {
    const store = join(dir, 'own', 'ledger.sqlite');
    mkdirSync(join(dir, 'own'));
    copyFileSync(db, store);
    // no key beside this copy yet: nothing to check with, nothing generated
    const none = await verify(store, '--checkpoints', join(dir, 'checkpoints.json'));
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no --public-key given and no node signing key at .*own\/signing-key\.pem/);
    copyFileSync(join(dir, 'signing-key.pem'), join(dir, 'own', 'signing-key.pem'));
    const ran = await verify(store, '--checkpoints', join(dir, 'checkpoints.json'));
    expect(ran.code).toBe(0);
    expect(JSON.parse(ran.stdout).checkpoints).toMatchObject({ holding: 3, key: 'node' });
    expect(ran.stderr).toMatch(/WARNING: checked with the node's own key \(.*signing-key\.pem\), not one given with --public-key: weaker/);
    // the key named by configuration, as the server finds it
    const viaEnv = await careledger(['verify', '--db', pristine('env'), '--checkpoints', join(dir, 'checkpoints.json')], dir, {
      CARELEDGER_SIGNING_KEY_FILE: join(dir, 'signing-key.pem'),
    });
    expect(viaEnv.code).toBe(0);
  });

  test('a wrong command line or file: exit 2 with one sentence', async () => {
    const store = pristine('usage');
    const cases: [string[], RegExp][] = [
      [['--public-key', join(dir, 'key.pem')], /--public-key verifies saved checkpoints: give --checkpoints FILE too/],
      [['--checkpoints', join(dir, 'nowhere.json')], /--checkpoints is not a file/],
      [['--checkpoints', join(dir, 'key.pem'), '--public-key', join(dir, 'key.pem')], /line 1 is not JSON/],
      [['--checkpoints', join(dir, 'checkpoints.json'), '--public-key', join(dir, 'checkpoints.json')], /holds no PEM public key/],
    ];
    const generated = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    writeFileSync(join(dir, 'rsa.pem'), generated);
    cases.push([['--checkpoints', join(dir, 'checkpoints.json'), '--public-key', join(dir, 'rsa.pem')], /holds a rsa key; checkpoints are signed with Ed25519/]);
    writeFileSync(join(dir, 'empty.json'), JSON.stringify({ items: [], next: null }));
    cases.push([['--checkpoints', join(dir, 'empty.json'), '--public-key', join(dir, 'key.pem')], /holds no checkpoints/]);
    for (const [args, message] of cases) {
      const ran = await verify(store, ...args);
      expect([args.join(' '), ran.code, ran.stderr]).toEqual([args.join(' '), 2, expect.stringMatching(message)]);
      expect(ran.stderr).not.toMatch(STACK);
    }
    expect(readFileSync(join(dir, 'checkpoints.json'), 'utf8')).toContain(saved[0].signature);
  }, 90_000);

  test('verify --help names the checkpoints, the key and exit code 3', async () => {
    const ran = await careledger(['verify', '--help'], dir);
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/^usage: careledger verify \[--checkpoints FILE\] \[--public-key FILE\]/);
    expect(ran.stdout).toMatch(/an export job appending GET \/v1\/audit\/checkpoints/);
    expect(ran.stdout).toMatch(/3: the log no longer holds a checkpoint/);
  });
});
