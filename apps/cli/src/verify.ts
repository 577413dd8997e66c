/**
 * `careledger verify [--checkpoints FILE [--public-key FILE]]`: the hash chain of the whole log, and
 * the signed checkpoints an operator kept outside the store. The chain alone cannot tell a log
 * truncated to an older copy or rewritten with every hash recomputed; a checkpoint saved elsewhere
 * can: the log must still hold its position with its hash, and its signature must verify.
 * checkSavedCheckpoints of @careledger/runtime does the per-checkpoint check; this reads the file
 * and the keys, walks the chain, and says what it found in one sentence per problem.
 *
 * Exit codes (args.ts EXIT): 0 all good; 1 the chain is broken; 3 a checkpoint does not hold (the
 * log truncated below it, or rewritten) or its signature does not verify; 2 a wrong command line,
 * an unreadable checkpoints or key file, or no key to check with.
 */
import { createPrivateKey, createPublicKey, KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CheckpointCheck, checkSavedCheckpoints, keyIdOf, publicKeysOf, Runtime, SignedCheckpoint } from '@careledger/runtime';
import { EXIT, PROGRAM, Values } from './args';
import { eventProgress } from './progress';

/** Where the node's checkpoint signing key is, as the server looks for it (apps/api config.ts). */
export function signingKeyOptions(env: NodeJS.ProcessEnv, dbPath: string) {
  return {
    signingKeyPem: env.CARELEDGER_SIGNING_KEY || null,
    signingKeyFile: env.CARELEDGER_SIGNING_KEY_FILE ? resolve(env.CARELEDGER_SIGNING_KEY_FILE) : null,
    signingKeyDefaultFile: join(dirname(env.CARELEDGER_TOKENS_FILE ? resolve(env.CARELEDGER_TOKENS_FILE) : dbPath), 'signing-key.pem'),
  };
}

/** The node's own verification key, without generating one: null (and where it looked) when there is none. */
export function nodePublicKey(env: NodeJS.ProcessEnv, dbPath: string): { key: KeyObject; source: string } | { key: null; looked: string } {
  const o = signingKeyOptions(env, dbPath);
  if (o.signingKeyPem) return { key: createPublicKey(createPrivateKey(o.signingKeyPem)), source: 'CARELEDGER_SIGNING_KEY' };
  const file = o.signingKeyFile ?? o.signingKeyDefaultFile;
  if (!existsSync(file)) return { key: null, looked: file };
  return { key: createPublicKey(createPrivateKey(readFileSync(file, 'utf8'))), source: file };
}

const CHECKPOINT_FIELDS = ['position', 'hash', 'recordedAt', 'keyId', 'signature'] as const;

function isCheckpoint(value: unknown): value is SignedCheckpoint {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return CHECKPOINT_FIELDS.every((f) => typeof c[f] === 'string') && /^\d+$/.test(c.position as string) && /^[0-9a-f]{64}$/.test(c.hash as string);
}

/** The checkpoints in one JSON value: an answer of GET /v1/audit/checkpoints ({ items }), an array, or one checkpoint. */
function checkpointsIn(value: unknown): SignedCheckpoint[] | null {
  const list = Array.isArray(value) ? value : typeof value === 'object' && value !== null && Array.isArray((value as { items?: unknown }).items) ? (value as { items: unknown[] }).items : [value];
  return list.every(isCheckpoint) ? list.map((c) => ({ position: c.position, hash: c.hash, recordedAt: c.recordedAt, keyId: c.keyId, signature: c.signature })) : null;
}

/**
 * Reads a checkpoints file: one JSON document (an answer of GET /v1/audit/checkpoints, an array of
 * checkpoints, one checkpoint) or NDJSON (a checkpoint or such an answer per line, as an export job
 * appends them). The same checkpoint saved twice counts once. Oldest first.
 */
export function readCheckpointsFile(file: string): { checkpoints: SignedCheckpoint[] } | { error: string } {
  const text = readFileSync(file, 'utf8');
  let found: SignedCheckpoint[] = [];
  let whole: unknown;
  let isJson = true;
  try {
    whole = JSON.parse(text);
  } catch {
    isJson = false;
  }
  if (isJson) {
    const list = checkpointsIn(whole);
    if (!list) return { error: `${file} is JSON but not signed checkpoints (an answer of GET /v1/audit/checkpoints, an array of them, or NDJSON of them)` };
    found = list;
  } else {
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i].trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(lines[i]);
      } catch {
        return { error: `${file} line ${i + 1} is not JSON: not signed checkpoints (JSON or NDJSON of GET /v1/audit/checkpoints answers)` };
      }
      const list = checkpointsIn(value);
      if (!list) return { error: `${file} line ${i + 1} is not a signed checkpoint (position, hash, recordedAt, keyId, signature)` };
      found.push(...list);
    }
  }
  const unique = new Map<string, SignedCheckpoint>();
  for (const c of found) unique.set(`${c.position}|${c.hash}|${c.keyId}|${c.signature}`, c);
  const checkpoints = [...unique.values()].sort((a, b) => (BigInt(a.position) < BigInt(b.position) ? -1 : BigInt(a.position) > BigInt(b.position) ? 1 : 0));
  if (checkpoints.length === 0) return { error: `${file} holds no checkpoints` };
  return { checkpoints };
}

const short = (hash: string | null) => (hash ? `${hash.slice(0, 16)}…` : 'none');

/**
 * One sentence per checkpoint that does not hold, naming its position, and what the log holds
 * instead (its head for a truncation; the hash there and the last checkpoint that still holds for a
 * rewrite).
 */
export function describeFailures(checks: CheckpointCheck[], saved: SignedCheckpoint[], head: bigint, keyIds: string[]): string[] {
  const sentences: string[] = [];
  const holding = checks.filter((c) => c.ok).map((c) => BigInt(c.position));
  const rewritten = checks.filter((c) => c.kind === 'rewritten').map((c) => BigInt(c.position));
  const firstRewritten = rewritten.length > 0 ? rewritten.reduce((a, b) => (b < a ? b : a)) : null;
  for (const [i, check] of checks.entries()) {
    if (check.ok) continue;
    const c = saved[i];
    const at = `checkpoint ${c.position} (signed ${c.recordedAt} by key ${c.keyId})`;
    switch (check.kind) {
      case 'unknown-key':
        sentences.push(`${at}: signed by a key that is not among the keys given (${keyIds.join(', ')}), so it proves nothing; give the key that signed it (GET /v1/audit/public-key lists every key that signed checkpoints of this log).`);
        break;
      case 'signature':
        sentences.push(`${at}: its signature does not verify: the saved checkpoint was altered or forged, so it proves nothing about the log.`);
        break;
      case 'missing':
        sentences.push(
          head < BigInt(c.position)
            ? `${at}: the log ends at position ${head}, below this checkpoint: it was truncated (restored from an older copy?) and has lost what it held up to position ${c.position}.`
            : `${at}: the log holds no event at position ${c.position} (its head is ${head}): it was replaced or rewritten.`,
        );
        break;
      default: {
        // the rewrite lies after the last checkpoint below that still holds, at or before the first that does not
        const below = holding.filter((p) => p < BigInt(c.position));
        const after = below.length > 0 ? ` and after position ${below[below.length - 1]} (the last saved checkpoint that still holds)` : '';
        const until = firstRewritten !== null && firstRewritten < BigInt(c.position) ? `at or before position ${firstRewritten} (the first saved checkpoint it changed)` : `at or before position ${c.position}`;
        sentences.push(`${at}: the log holds hash ${short(check.found)} at position ${c.position}, the checkpoint ${short(c.hash)}: the log was rewritten ${until}${after}, with its hashes recomputed.`);
      }
    }
  }
  return sentences;
}

export interface VerifyOutput {
  out: (line: string) => void;
  err: (line: string) => void;
}

const console_: VerifyOutput = { out: (l) => console.log(l), err: (l) => console.error(l) };

/** Runs verify; `open` opens the node (project false). */
export async function verifyCommand(values: Values, dbPath: string, open: () => Promise<Runtime>, io: VerifyOutput = console_): Promise<number> {
  const name = `${PROGRAM} verify`;
  const file = values.checkpoints as string | undefined;
  let saved: SignedCheckpoint[] = [];
  let keys: { keyId: string; publicKey: KeyObject }[] = [];
  let keyNote: string | null = null;
  if (file !== undefined) {
    const read = readCheckpointsFile(file);
    if ('error' in read) {
      io.err(`${name}: --checkpoints ${read.error}`);
      return EXIT.usage;
    }
    saved = read.checkpoints;
    const keyFile = values['public-key'] as string | undefined;
    if (keyFile !== undefined) {
      let parsed: KeyObject[];
      try {
        parsed = publicKeysOf(readFileSync(keyFile, 'utf8'));
      } catch (error) {
        io.err(`${name}: --public-key ${keyFile} is not a valid PEM public key (${(error as Error).message})`);
        return EXIT.usage;
      }
      if (parsed.length === 0) {
        io.err(`${name}: --public-key ${keyFile} holds no PEM public key (-----BEGIN PUBLIC KEY-----); GET /v1/audit/public-key answers it`);
        return EXIT.usage;
      }
      const notEd = parsed.find((k) => k.asymmetricKeyType !== 'ed25519');
      if (notEd) {
        io.err(`${name}: --public-key ${keyFile} holds a ${notEd.asymmetricKeyType} key; checkpoints are signed with Ed25519`);
        return EXIT.usage;
      }
      keys = parsed.map((k) => ({ keyId: keyIdOf(k), publicKey: k }));
    } else {
      const own = nodePublicKey(process.env, dbPath);
      if (!own.key) {
        io.err(`${name}: no --public-key given and no node signing key at ${own.looked} (CARELEDGER_SIGNING_KEY, CARELEDGER_SIGNING_KEY_FILE, else beside CARELEDGER_TOKENS_FILE or the store): give --public-key FILE (GET /v1/audit/public-key answers it)`);
        return EXIT.usage;
      }
      keys = [{ keyId: keyIdOf(own.key), publicKey: own.key }];
      keyNote = `checked with the node's own key (${own.source}), not one given with --public-key: weaker, since whoever can rewrite the store may hold that key too and sign checkpoints of the rewritten log; verify with the key you kept (GET /v1/audit/public-key) for proof.`;
    }
  }

  const rt = await open();
  try {
    const progress = await eventProgress(rt.store, 'verify');
    const report = await rt.store.verifyIntegrity({ onProgress: (p) => progress.update(p.events) });
    progress.stop();
    const summary: Record<string, unknown> = { events: report.events, ok: report.ok, firstBrokenPosition: report.firstBrokenPosition?.toString() ?? null };
    const sentences: string[] = [];
    if (!report.ok) {
      sentences.push(`the hash chain breaks at position ${report.firstBrokenPosition}: the event there (or the link to the one before it) was changed after it was written; everything up to position ${report.verifiedUpTo.position} is intact.`);
    }
    let checkpointsFail = false;
    if (file !== undefined) {
      const checks = await checkSavedCheckpoints(rt.store, saved, keys);
      const head = await rt.store.headPosition();
      const failures = describeFailures(checks, saved, head, keys.map((k) => k.keyId));
      checkpointsFail = failures.length > 0;
      sentences.push(...failures);
      const failed = checks.filter((c) => !c.ok);
      summary.checkpoints = {
        file,
        checked: checks.length,
        holding: checks.length - failed.length,
        upTo: checks.filter((c) => c.ok).reduce<string | null>((max, c) => (max === null || BigInt(c.position) > BigInt(max) ? c.position : max), null),
        failed: failed.map((c) => ({ position: c.position, kind: c.kind, problem: c.problem })),
        keys: keys.map((k) => k.keyId),
        key: values['public-key'] !== undefined ? 'given' : 'node',
      };
    }
    io.out(JSON.stringify(summary));
    for (const s of sentences) io.err(`${name}: ${s}`);
    if (keyNote) io.err(`${name}: WARNING: ${keyNote}`);
    if (checkpointsFail) return EXIT.checkpoints;
    return report.ok ? EXIT.ok : EXIT.failed;
  } finally {
    await rt.close();
  }
}
