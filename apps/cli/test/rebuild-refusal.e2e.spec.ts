/**
 * `careledger rebuild` verifies the chain first (from the point verified last time, as the server
 * does) and refuses a broken one: read models built from an altered log would serve the alteration
 * as the truth. `--force` rebuilds anyway and says so. Real SQLite files, the CLI as a child process.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LIVE } from '@careledger/projections';
import { Runtime } from '@careledger/runtime';
import { careledger, forgeFees, planWithApprovedClaim, STACK } from './support';

let dir: string;
let db: string;
let readDb: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'careledger-cli-rebuild-'));
  db = join(dir, 'ledger.sqlite');
  readDb = join(dir, 'ledger.read.sqlite');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function write(serial: string): Promise<bigint> {
  const rt = await Runtime.open({ dbPath: db, readDbPath: join(dir, 'writer.read.sqlite'), signingKeyDefaultFile: join(dir, 'signing-key.pem'), project: false });
  try {
    await planWithApprovedClaim(rt, serial);
    return await rt.store.headPosition();
  } finally {
    await rt.close();
  }
}

/** What the read models say: their checkpoint, and the fee of a claim. */
function readModels(claimId: string): { position: number; fee: string | null } {
  const read = new Database(readDb, { readonly: true });
  try {
    const { position } = read.prepare(`SELECT position FROM ${LIVE}checkpoint WHERE name = 'main'`).get() as { position: number };
    const row = read.prepare(`SELECT fee_amount FROM ${LIVE}claims WHERE claim_id = ?`).get(claimId) as { fee_amount: string } | undefined;
    return { position, fee: row?.fee_amount ?? null };
  } finally {
    read.close();
  }
}

const rebuild = (...extra: string[]) => careledger(['rebuild', '--db', db, '--read-db', readDb, ...extra], dir);

describe('careledger rebuild refuses a broken chain unless --force', () => {
  let firstHead: bigint;
  let head: bigint;
  let forgedAt: number;

  test('an intact chain: verified (from the start the first time, then from where it stopped), then rebuilt', async () => {
    firstHead = await write('B1');
    const first = await rebuild();
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ chain: 'intact', position: String(firstHead), verified: { from: '0', upTo: String(firstHead) } });
    head = await write('B2');
    const second = await rebuild();
    expect(second.code).toBe(0);
    // incremental: this walk started at the point the first one verified
    expect(JSON.parse(second.stdout)).toMatchObject({ chain: 'intact', position: String(head), verified: { from: String(firstHead), upTo: String(head), events: Number(head - firstHead) } });
    expect(readModels('C-B2')).toEqual({ position: Number(head), fee: expect.stringMatching(/^\d+\.\d\d$/) });
    expect(readModels('C-B2').fee).not.toBe('1.00');
  });

  test('a fee edited behind the store\'s back: rebuild refuses (exit 1), names the position, leaves the read models alone', async () => {
    const more = await write('B3');
    // forge the fee of B3's approval (after the point verified last time), without recomputing the chain
    const file = new Database(db, { readonly: true });
    forgedAt = (file.prepare("SELECT position FROM events WHERE type = 'ClaimApproved' ORDER BY position DESC LIMIT 1").get() as { position: number }).position;
    file.close();
    expect(forgeFees(db, forgedAt, false)).toBe(1);
    const before = readModels('C-B2');
    const ran = await rebuild();
    expect(ran).toMatchObject({ code: 1, stdout: '' });
    expect(ran.stderr).toMatch(new RegExp(`^careledger rebuild: refused: the hash chain breaks at position ${forgedAt} \\(intact up to ${forgedAt - 1}\\); the read models were left as they were\\.`));
    expect(ran.stderr).toMatch(/run `careledger rebuild --force`/);
    expect(ran.stderr).not.toMatch(STACK);
    expect(readModels('C-B2')).toEqual(before);
    expect(readModels('C-B3')).toEqual({ position: Number(head), fee: null });
    expect(more).toBeGreaterThan(head);
  });

  test('--force rebuilds anyway, with a warning, and the read models then show the log as it is', async () => {
    const ran = await rebuild('--force');
    expect(ran.code).toBe(0);
    expect(ran.stderr).toMatch(new RegExp(`^careledger rebuild: WARNING: the hash chain breaks at position ${forgedAt} .*rebuilding anyway \\(--force\\)`));
    expect(JSON.parse(ran.stdout)).toMatchObject({ chain: `broken at ${forgedAt} (--force)` });
    expect(readModels('C-B3').fee).toBe('1.00');
    // the chain is still broken: a later rebuild refuses again
    expect((await rebuild()).code).toBe(1);
  });

  test('rebuild --help says so', async () => {
    const ran = await careledger(['rebuild', '--help'], dir);
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/^usage: careledger rebuild \[--db FILE\] \[--read-db FILE\] \[--force\]/);
    expect(ran.stdout).toMatch(/on a broken\nchain rebuild refuses \(exit 1/);
  });
});
