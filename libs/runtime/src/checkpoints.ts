/**
 * The signed checkpoints of the log, kept in the store's records (every node sees every node's),
 * and the check of a saved list of them against the log.
 */
import { createPublicKey, KeyObject } from 'node:crypto';
import { ChainPoint, ConcurrencyConflict, EventStore } from '@careledger/event-store';
import { SignedCheckpoint, Signer, verifyCheckpointSignature } from './signing';

const PREFIX = 'checkpoint:';
const LATEST = 'checkpoint-latest';
const KEY_PREFIX = 'signing-key:';
const keyOf = (position: bigint) => `${PREFIX}${position.toString().padStart(20, '0')}`;

export interface PublicKeyRecord {
  keyId: string;
  publicKey: string;
}

export class Checkpoints {
  constructor(
    private readonly store: EventStore,
    private readonly signer: Signer,
    private readonly now: () => Date,
  ) {}

  get keyId(): string {
    return this.signer.keyId;
  }

  get publicKeyPem(): string {
    return this.signer.publicKeyPem;
  }

  /** Publishes this node's verification key beside the checkpoints (once per key). */
  async publishKey(): Promise<void> {
    const key = `${KEY_PREFIX}${this.signer.keyId}`;
    if (await this.store.records.get(key)) return;
    await this.store.records.put(key, { keyId: this.signer.keyId, publicKey: this.signer.publicKeyPem } satisfies PublicKeyRecord, null).catch((error) => {
      if (!(error instanceof ConcurrencyConflict)) throw error;
    });
  }

  /**
   * Signs bytes with the checkpoint key: the node attests a document (an entitlement statement's
   * digest), so a third party checks it with the same public key as the checkpoints.
   */
  attest(bytes: Buffer): { keyId: string; signature: string } {
    return { keyId: this.signer.keyId, signature: this.signer.signBytes(bytes) };
  }

  /** Every verification key that signed checkpoints of this log. */
  async keys(): Promise<PublicKeyRecord[]> {
    return (await this.store.records.list<PublicKeyRecord>(KEY_PREFIX)).map((r) => r.value);
  }

  /** Signs the log's head now, unless the latest checkpoint already covers it; null on an empty log. */
  async signHead(): Promise<SignedCheckpoint | null> {
    const head = await this.store.head();
    if (head.position === 0n) return null;
    const latest = await this.latest();
    if (latest && BigInt(latest.position) === head.position && latest.hash === head.hash) return latest;
    return this.save(head);
  }

  private async save(point: ChainPoint): Promise<SignedCheckpoint> {
    let checkpoint = this.signer.sign(point, this.now().toISOString());
    try {
      await this.store.records.put(keyOf(point.position), checkpoint, null);
    } catch (error) {
      // another node signed the same head a moment before
      if (!(error instanceof ConcurrencyConflict)) throw error;
      checkpoint = (await this.store.records.get<SignedCheckpoint>(keyOf(point.position)))!.value;
    }
    await this.advanceLatest(checkpoint);
    return checkpoint;
  }

  /** Moves the pointer to the newest checkpoint forward (compare-and-set; never backwards). */
  private async advanceLatest(checkpoint: SignedCheckpoint): Promise<void> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const current = await this.store.records.get<SignedCheckpoint>(LATEST);
      if (current && BigInt(current.value.position) >= BigInt(checkpoint.position)) return;
      try {
        await this.store.records.put(LATEST, checkpoint, current?.version ?? null);
        return;
      } catch (error) {
        if (!(error instanceof ConcurrencyConflict)) throw error;
      }
    }
  }

  async latest(): Promise<SignedCheckpoint | null> {
    return (await this.store.records.get<SignedCheckpoint>(LATEST))?.value ?? null;
  }

  async list(after: bigint | null, limit: number): Promise<SignedCheckpoint[]> {
    return (await this.store.records.list<SignedCheckpoint>(PREFIX, { after: after === null ? undefined : keyOf(after), limit })).map((r) => r.value);
  }

  /** The first checkpoint at or after `position`, signing the head when none covers it yet. */
  async covering(position: bigint): Promise<SignedCheckpoint | null> {
    const [first] = await this.list(position - 1n, 1);
    if (first) return first;
    return this.signHead();
  }
}

/** Why a saved checkpoint does not hold: its key is not given, its signature fails, the log has no event at its position, or another hash there. */
export type CheckpointProblem = 'unknown-key' | 'signature' | 'missing' | 'rewritten';

export interface CheckpointCheck {
  position: string;
  ok: boolean;
  problem: string | null;
  /** null when the checkpoint holds. */
  kind: CheckpointProblem | null;
  /** The hash the log holds at the position (null: no event there, or the signature was not good enough to look). */
  found: string | null;
}

/**
 * Checks saved checkpoints against the log: each signature by a known key, and the log holding
 * each position with the same hash. A truncated tail misses positions; a consistent rewrite of the
 * chain changes the hashes.
 */
export async function checkSavedCheckpoints(
  store: EventStore,
  saved: SignedCheckpoint[],
  keys: { keyId: string; publicKey: string | KeyObject }[],
): Promise<CheckpointCheck[]> {
  const byId = new Map<string, KeyObject>(keys.map((k) => [k.keyId, typeof k.publicKey === 'string' ? createPublicKey(k.publicKey) : k.publicKey]));
  const out: CheckpointCheck[] = [];
  for (const c of saved) {
    const key = byId.get(c.keyId);
    let problem: string | null = null;
    let kind: CheckpointProblem | null = null;
    let found: string | null = null;
    if (!key) [kind, problem] = ['unknown-key', `signed by key ${c.keyId}, which is not among the verification keys given`];
    else if (!verifyCheckpointSignature(c, key)) [kind, problem] = ['signature', 'the signature does not verify'];
    else {
      found = await store.hashAt(BigInt(c.position));
      if (found === null) [kind, problem] = ['missing', `the log holds no event at position ${c.position} (truncated or replaced)`];
      else if (found !== c.hash) {
        [kind, problem] = ['rewritten', `the log holds hash ${found.slice(0, 16)}… at position ${c.position}, the checkpoint ${c.hash.slice(0, 16)}… (rewritten)`];
      }
    }
    out.push({ position: c.position, ok: problem === null, problem, kind, found });
  }
  return out;
}
