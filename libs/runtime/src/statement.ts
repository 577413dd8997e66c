/**
 * Entitlement statements (API.md v1.1 "Disputes"): the view of a unit at a business time as the
 * ledger knew it at `knownAt`, in sentences with rule titles and the facts behind each field, the
 * timeline, and the evidence a third party checks with the node's public key alone:
 *
 * - every event the view rests on, with everything its hash covers (position, id, stream, revision,
 *   type, recordedAt, data and metadata exactly as hashed) and the previous event's hash in the chain;
 * - a signed checkpoint at or after the last of them (Ed25519 over position and chain hash);
 * - an attestation: the node's Ed25519 signature, with the checkpoint key, over the SHA-256 of the
 *   canonical JSON of the whole statement (everything but the attestation itself).
 *
 * `verifyStatement` is the check a third party runs (the CLI's `verify-statement`): each event's
 * hash recomputes from its content and previous hash (global chains), links between included
 * neighbours agree, every position is at or before the checkpoint's, the checkpoint and the
 * attestation signatures verify with the given key, and folding the included events with the
 * domain gives the statement's view. What this proves and what it does not: docs/disputes.md.
 */
import { createPublicKey, KeyObject, verify } from 'node:crypto';
import {
  Catalogue, confirmedBindings, EntitlementView, foldEntitlements, gatherUnit, RecordedEvent, RULE_OF, timeline, toFacts, World,
} from '@careledger/domain';
import { canonicalJson, eventHash, EventStore, GENESIS_HASH, hashedMetadataOf, IntegrityViolation, sha256Hex, StoredEvent } from '@careledger/event-store';
import { keyIdOf, SignedCheckpoint, verifyCheckpointSignature } from './signing';
import { StatementLine, statementFacts, statementLines } from './statement-text';

export const STATEMENT_FORMAT = 'careledger-statement/v1';
/** The attestation signs these bytes: this prefix, a newline, and the statement's digest (hex). */
export const ATTESTATION_CONTEXT = 'careledger-statement:v1';

export const HASH_FORMULA =
  'hash = sha256hex(previousHash + "\\n" + JSON.stringify([position, eventId, streamId, revision, type, recordedAt, ' +
  'canonicalJson(data), hashedMetadata])), position as a decimal string; hashedMetadata is canonicalJson(metadata without ' +
  'recordedAt), or the event\'s own hashedMetadata text when it carries one (events appended before that rule); canonicalJson is ' +
  'JSON.stringify with object keys sorted at every depth; the first event of the chain has previousHash "' + GENESIS_HASH + '".';

/** An event the statement rests on, with everything its chain hash covers. */
export interface StatementEvent {
  position: string;
  eventId: string;
  type: string;
  streamId: string;
  revision: number;
  /** As hashed (the store's commit time); also inside metadata. */
  recordedAt: string;
  /** The hash of the event before it in the chain the statement names (integrity.chain). */
  previousHash: string;
  hash: string;
  data: unknown;
  /** The event's metadata, recordedAt included (the hash covers it without recordedAt, see hashedMetadata). */
  metadata: Record<string, unknown>;
  /**
   * Present only when the hash covers another metadata text than canonicalJson(metadata without
   * recordedAt): events appended before that rule, hashed with recordedAt inside. The exact text.
   */
  hashedMetadata?: string;
}

export interface StatementUnit {
  serial: string;
  /** How it joined the plan chain: purchase, a card plan's binding, or as a replacement. */
  via: string;
  /** The business time it joined (the purchase, binding or fulfilment). */
  since: string | null;
  eventId: string;
}

export interface StatementTimelineEntry {
  position: string;
  eventId: string;
  type: string;
  occurredAt: string;
  recordedAt: string;
  coverage: string;
  replacementsRemaining: number;
  replacementsUsed: number;
  coveredUntil: string | null;
  renewal: string;
}

export interface StatementIntegrity {
  /** The store kind (sqlite, postgres, eventstoredb). */
  store: string;
  /** global: one hash chain over the whole log (SQLite, PostgreSQL); per-stream: one chain per stream (EventStoreDB). */
  chain: 'global' | 'per-stream';
  chainNote: string;
  hashFormula: string;
  genesisHash: string;
  /** A signed checkpoint at or after every included event's position. */
  checkpoint: SignedCheckpoint;
  /** The key that signed the attestation (and, unless rotated since, the checkpoint). */
  keyId: string;
  /** That key (PEM). A statement's own key proves nothing: verify with the key you got from the ledger's operator. */
  publicKey: string;
  howToVerify: string[];
}

export interface StatementAttestation {
  algorithm: 'Ed25519';
  keyId: string;
  /** sha256 hex of canonicalJson(the statement without `attestation`). */
  digest: string;
  /** base64 Ed25519 signature of `${ATTESTATION_CONTEXT}\n${digest}`. */
  signature: string;
}

export interface Statement {
  format: typeof STATEMENT_FORMAT;
  serial: string;
  /** The business time of the view (an instant in the plan region's zone). */
  at: string;
  /** What the ledger had recorded by then. */
  knownAt: string;
  issuedAt: string;
  /** The catalogue version the view was folded with. */
  catalogue: string;
  view: EntitlementView;
  units: StatementUnit[];
  explanations: StatementLine[];
  timeline: StatementTimelineEntry[];
  events: StatementEvent[];
  integrity: StatementIntegrity;
  attestation: StatementAttestation;
}

/** What building a statement needs of a node. */
export interface StatementSource {
  store: EventStore;
  catalogue: Catalogue;
  checkpoints: {
    covering(position: bigint): Promise<SignedCheckpoint | null>;
    attest(bytes: Buffer): { keyId: string; signature: string };
    readonly keyId: string;
    readonly publicKeyPem: string;
  };
}

const codeRule = (code: string): string | null => (RULE_OF as Record<string, string>)[code] ?? null;

export function attestationMessage(digest: string): Buffer {
  return Buffer.from(`${ATTESTATION_CONTEXT}\n${digest}`, 'utf8');
}

/** The digest the attestation signs: everything in the statement but the attestation. */
export function statementDigest(statement: Record<string, unknown>): string {
  const { attestation: _attestation, ...body } = statement;
  return sha256Hex(canonicalJson(body));
}

function hashedFields(e: {
  position: string | bigint; eventId: string; streamId: string; revision: number; type: string; recordedAt: string; data: unknown;
  metadata: Record<string, unknown>; hashedMetadata?: string;
}) {
  return {
    position: BigInt(e.position),
    eventId: e.eventId,
    streamId: e.streamId,
    revision: e.revision,
    type: e.type,
    recordedAt: e.recordedAt,
    data: canonicalJson(e.data),
    metadata: hashedMetadataOf(e),
  };
}

/**
 * Builds and attests a unit's statement, reading its events from the store (not the read models:
 * the hashes and metadata are the store's). Null when the ledger has no event of the unit.
 */
export async function buildStatement(
  source: StatementSource,
  query: { serial: string; at?: string | null; knownAt?: string | null; now: Date },
): Promise<Statement | null> {
  const { store, catalogue, checkpoints } = source;
  const issuedAt = query.now.toISOString();
  const knownAt = query.knownAt ?? issuedAt;
  const knownAtMs = Date.parse(knownAt);
  const gathered = await gatherUnit(catalogue, query.serial, (s) => store.readStream(s));
  if (gathered.events.length === 0) return null;
  const stored = (gathered.events as StoredEvent[])
    .filter((e) => Date.parse(e.metadata.recordedAt) <= knownAtMs)
    .sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
  const view = foldEntitlements(catalogue, stored, { serial: query.serial, at: query.at ?? null, knownAt, now: issuedAt });

  const set = toFacts(stored, knownAtMs);
  const facts = statementFacts(set);
  const world = new World(catalogue, set.facts, set);
  const binding = confirmedBindings(world, query.serial).at(-1);
  const chain = binding ? world.chain(binding.planId) : null;
  const units: StatementUnit[] = chain
    ? chain.units.map((u) => ({ serial: u.serial, via: u.via, since: facts.get(u.fact.eventId)?.businessTime ?? null, eventId: u.fact.eventId }))
    : [];

  const events = await withPreviousHashes(store, stored);
  const last = stored.length > 0 ? stored[stored.length - 1].position : 1n;
  const checkpoint = await checkpoints.covering(last);
  if (!checkpoint) throw new IntegrityViolation('the log is empty: there is no checkpoint to cover a statement');

  const globalChain = store.capabilities.globalChain;
  const body: Omit<Statement, 'attestation'> = {
    format: STATEMENT_FORMAT,
    serial: query.serial,
    at: view.at,
    knownAt: view.knownAt,
    issuedAt,
    catalogue: catalogue.version,
    view,
    units,
    explanations: statementLines(view, facts, codeRule),
    timeline: timeline(catalogue, stored, query.serial, view.knownAt).map((t) => ({
      position: t.position,
      eventId: t.eventId,
      type: t.type,
      occurredAt: t.occurredAt,
      recordedAt: t.recordedAt,
      coverage: t.view.coverage,
      replacementsRemaining: t.view.replacement.remaining,
      replacementsUsed: t.view.replacement.used,
      coveredUntil: t.view.warranty.coveredUntil,
      renewal: t.view.renewal.eligible ? 'eligible' : (t.view.renewal.blockedBy ?? 'not eligible'),
    })),
    events,
    integrity: {
      store: store.kind,
      chain: globalChain ? 'global' : 'per-stream',
      chainNote: globalChain
        ? 'Every event is hash-chained to the event before it in the whole log (global order); the checkpoint signs the chain hash at its position.'
        : 'On EventStoreDB every stream has its own hash chain (each event over the one before it in its stream; the link also covers the append\'s nonce and index, kept in the store\'s metadata and not in this statement); the checkpoint signs a hash rolled over the whole log in $all order.',
      hashFormula: globalChain ? HASH_FORMULA : 'per stream; see chainNote',
      genesisHash: GENESIS_HASH,
      checkpoint,
      keyId: checkpoints.keyId,
      publicKey: checkpoints.publicKeyPem,
      howToVerify: [
        'Get the ledger operator\'s public key out of band (GET /v1/audit/public-key answers it as PEM); a key inside the statement proves nothing by itself.',
        'Run `careledger verify-statement FILE --public-key KEY.pem` (exit 0: verified; 1: the first reason it does not; 2: a wrong command line).',
        'Or by hand: recompute each event\'s hash from its content and previousHash with the formula above; check that every position is at or before the checkpoint\'s; check the checkpoint\'s Ed25519 signature over "careledger-checkpoint:v1\\n<position>\\n<hash>"; check the attestation\'s signature over "careledger-statement:v1\\n<digest>" where digest is the SHA-256 of the canonical JSON of the statement without "attestation"; fold the events with CareLedger\'s domain and compare with the view.',
        'To tie the events to the log itself, ask anyone holding the log (or a saved copy of checkpoints) for the hash at each position: `GET /v1/audit/verify` and `careledger verify --checkpoints` check the chain up to the checkpoint.',
      ],
    },
  };
  const digest = sha256Hex(canonicalJson(body));
  const signed = checkpoints.attest(attestationMessage(digest));
  return { ...body, attestation: { algorithm: 'Ed25519', keyId: signed.keyId, digest, signature: signed.signature } };
}

/**
 * Each event with the hash of the event before it: the previous position's in a global chain (the
 * stores that have one number positions 1, 2, 3, ...), the previous revision's of its stream in a
 * per-stream chain. A global chain is checked as it is read: a statement never carries a broken link.
 */
async function withPreviousHashes(store: EventStore, events: StoredEvent[]): Promise<StatementEvent[]> {
  const out: StatementEvent[] = [];
  const byStreamRevision = new Map(events.map((e) => [`${e.streamId}\u0000${e.revision}`, e.hash ?? null]));
  for (const e of events) {
    const hash = e.hash;
    if (!hash) throw new IntegrityViolation(`the event at position ${e.position} carries no hash`, e.position);
    let previousHash: string | null;
    if (store.capabilities.globalChain) {
      previousHash = e.position === 1n ? GENESIS_HASH : await store.hashAt(e.position - 1n);
      if (previousHash === null) throw new IntegrityViolation(`the log holds no event at position ${e.position - 1n}, before ${e.position}`, e.position);
    } else {
      previousHash = e.revision === 0 ? GENESIS_HASH : (byStreamRevision.get(`${e.streamId}\u0000${e.revision - 1}`) ?? null);
      if (previousHash === null) throw new IntegrityViolation(`${e.streamId} revision ${e.revision - 1} is missing before position ${e.position}`, e.position);
    }
    const event: StatementEvent = {
      position: e.position.toString(),
      eventId: e.eventId,
      type: e.type,
      streamId: e.streamId,
      revision: e.revision,
      recordedAt: e.metadata.recordedAt,
      previousHash,
      hash,
      data: e.data,
      metadata: e.metadata as unknown as Record<string, unknown>,
      ...(e.hashedMetadata !== undefined ? { hashedMetadata: e.hashedMetadata } : {}),
    };
    if (store.capabilities.globalChain && eventHash(previousHash, hashedFields(event)) !== hash) {
      throw new IntegrityViolation(`the event at position ${e.position} does not match its hash: the log is broken there (GET /v1/audit/verify)`, e.position);
    }
    out.push(event);
  }
  return out;
}

// ------------------------------------------------------------------------------------- verify

export interface StatementCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface StatementVerification {
  ok: boolean;
  /** The first reason it does not verify (null when it does). */
  reason: string | null;
  checks: StatementCheck[];
  /** What could not be checked here (a per-stream chain's hashes, for one). */
  notChecked: string[];
  /** Which key the signatures were checked with: one given by the verifier, or the statement's own. */
  key: { source: 'given' | 'embedded'; keyId: string } | null;
}

export interface VerifyStatementOptions {
  /** PEM text with one or more public keys (as GET /v1/audit/public-key gives them). */
  publicKeys?: string | null;
  /** Use the key inside the statement: proves internal consistency only. */
  useEmbeddedKey?: boolean;
  /** The catalogue to fold with (its version must be the statement's). */
  catalogue: Catalogue;
}

/** The PEM blocks of a text (a file may hold several keys: the current one and older ones). */
export function publicKeysOf(pem: string): KeyObject[] {
  const blocks = pem.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? [];
  return blocks.map((block) => createPublicKey(block));
}

class Failed extends Error {}

/** Checks a statement (parsed JSON) as a third party can: with a public key and the domain alone. */
export function verifyStatement(input: unknown, options: VerifyStatementOptions): StatementVerification {
  const checks: StatementCheck[] = [];
  const notChecked: string[] = [];
  let key: StatementVerification['key'] = null;
  const pass = (name: string, detail: string) => checks.push({ name, ok: true, detail });
  const fail = (name: string, detail: string): never => {
    checks.push({ name, ok: false, detail });
    throw new Failed(detail);
  };
  try {
    const s = shapeOf(input, fail);
    pass('format', `${STATEMENT_FORMAT} for ${s.serial} at ${s.at}, known at ${s.knownAt}`);

    // the keys: by id, from the verifier (or, when asked, the statement itself)
    const keys = new Map<string, KeyObject>();
    if (options.publicKeys) {
      let parsed: KeyObject[] = [];
      try {
        parsed = publicKeysOf(options.publicKeys);
      } catch (error) {
        fail('key', `the public key given is not a valid PEM public key (${(error as Error).message})`);
      }
      if (parsed.length === 0) fail('key', 'the public key file holds no PEM public key (-----BEGIN PUBLIC KEY-----)');
      for (const k of parsed) {
        if (k.asymmetricKeyType !== 'ed25519') fail('key', `the public key given is ${k.asymmetricKeyType}, not Ed25519`);
        keys.set(keyIdOf(k), k);
      }
    } else if (options.useEmbeddedKey) {
      let embedded: KeyObject | null = null;
      try {
        embedded = createPublicKey(s.integrity.publicKey);
      } catch {
        fail('key', 'the statement\'s own public key is not a valid PEM public key');
      }
      keys.set(keyIdOf(embedded!), embedded!);
    } else {
      fail('key', 'no public key: give the ledger operator\'s key (a statement\'s own key proves nothing)');
    }
    const attestKey = keys.get(s.attestation.keyId);
    if (!attestKey) {
      fail('key', `the statement is attested by key ${s.attestation.keyId}, not by ${keys.size === 1 ? 'the key given' : 'any key given'} (${[...keys.keys()].join(', ')})`);
    }
    key = { source: options.publicKeys ? 'given' : 'embedded', keyId: s.attestation.keyId };
    pass('key', `key ${s.attestation.keyId} (${key.source === 'given' ? 'given by the verifier' : 'embedded in the statement: internal consistency only'})`);

    // the events: ordered, unique, each hash recomputed (global chain) or linked (per-stream chain)
    const events = s.events;
    const ids = new Set<string>();
    let previous: StatementEvent | null = null;
    for (const e of events) {
      if (ids.has(e.eventId)) fail('events', `event ${e.eventId} appears twice`);
      ids.add(e.eventId);
      if (previous && BigInt(previous.position) >= BigInt(e.position)) fail('events', `the events are not in log order at position ${e.position}`);
      previous = e;
    }
    if (s.integrity.chain === 'global') {
      const byPosition = new Map(events.map((e) => [BigInt(e.position), e]));
      for (const e of events) {
        if (e.metadata.recordedAt !== e.recordedAt) {
          fail('event hashes', `the event at position ${e.position} (${e.type}) carries another recordedAt in its metadata than the one its hash covers`);
        }
        if (e.hashedMetadata !== undefined && !sameMetadata(e.hashedMetadata, e.metadata)) {
          fail('event hashes', `the event at position ${e.position} (${e.type}) carries metadata that differs from the metadata its hash covers`);
        }
        if (eventHash(e.previousHash, hashedFields(e)) !== e.hash) {
          fail('event hashes', `the event at position ${e.position} (${e.type}) does not match its hash: its content, place or previous hash was changed`);
        }
        const position = BigInt(e.position);
        const before = byPosition.get(position - 1n);
        if (position === 1n && e.previousHash !== GENESIS_HASH) fail('event hashes', 'the first event of the log does not start from the genesis hash');
        if (before && before.hash !== e.previousHash) fail('event hashes', `the events at positions ${before.position} and ${e.position} do not link (previousHash differs from the hash before it)`);
      }
      pass('event hashes', `${events.length} event hashes recompute from their content and previous hash`);
    } else {
      const byStreamRevision = new Map(events.map((e) => [`${e.streamId}\u0000${e.revision}`, e]));
      for (const e of events) {
        const before = byStreamRevision.get(`${e.streamId}\u0000${e.revision - 1}`);
        if (e.revision === 0 && e.previousHash !== GENESIS_HASH) fail('event links', `${e.streamId} revision 0 does not start from the genesis hash`);
        if (before && before.hash !== e.previousHash) fail('event links', `${e.streamId} revisions ${before.revision} and ${e.revision} do not link`);
      }
      pass('event links', `${events.length} events link to the one before them in their stream`);
      notChecked.push(
        'the event hashes themselves: on a per-stream chain (EventStoreDB) each link also covers the append\'s nonce and index, which the store keeps in its metadata and the statement does not carry; the attestation binds the content to the hashes, the checkpoint covers a hash rolled over $all that only the log can recompute',
      );
    }

    // the checkpoint covers every event, and its signature verifies
    const checkpoint = s.integrity.checkpoint;
    const checkpointPosition = BigInt(checkpoint.position);
    const beyond = events.find((e) => BigInt(e.position) > checkpointPosition);
    if (beyond) fail('checkpoint', `the event at position ${beyond.position} is after the checkpoint (${checkpoint.position}): the checkpoint does not cover it`);
    const checkpointKey = keys.get(checkpoint.keyId);
    if (!checkpointKey) fail('checkpoint', `the checkpoint is signed by key ${checkpoint.keyId}, which is not among the keys given`);
    if (!verifyCheckpointSignature(checkpoint, checkpointKey!)) fail('checkpoint', `the checkpoint's signature (position ${checkpoint.position}) does not verify with key ${checkpoint.keyId}`);
    const atCheckpoint = events.find((e) => BigInt(e.position) === checkpointPosition);
    if (s.integrity.chain === 'global' && atCheckpoint && atCheckpoint.hash !== checkpoint.hash) {
      fail('checkpoint', `the event at the checkpoint's position ${checkpoint.position} has another hash than the checkpoint`);
    }
    pass('checkpoint', `signed checkpoint at position ${checkpoint.position} (key ${checkpoint.keyId}) covers every event`);

    // the attestation: the node signed exactly this document
    const digest = statementDigest(input as Record<string, unknown>);
    if (digest !== s.attestation.digest) fail('attestation', 'the statement was changed after it was attested (its digest differs from the attested one)');
    let signed = false;
    try {
      signed = verify(null, attestationMessage(digest), attestKey!, Buffer.from(s.attestation.signature, 'base64'));
    } catch {
      signed = false;
    }
    if (!signed) fail('attestation', `the attestation's signature does not verify with key ${s.attestation.keyId}`);
    pass('attestation', `Ed25519 signature over the statement's digest ${digest.slice(0, 16)}… verifies`);

    // the view is what the domain folds from the included events
    if (s.catalogue !== options.catalogue.version) {
      fail('view', `the statement was folded with catalogue ${s.catalogue}, this verifier has ${options.catalogue.version} (pass that catalogue's file)`);
    }
    const folded = foldEntitlements(options.catalogue, events.map(toRecorded), { serial: s.serial, at: s.view.at, knownAt: s.view.knownAt, now: s.issuedAt });
    if (canonicalJson(folded) !== canonicalJson(s.view)) {
      const field = firstDifference(folded, s.view) ?? '(the view)';
      fail('view', `folding the included events does not give the statement's view (first difference: ${field})`);
    }
    const late = events.find((e) => Date.parse(e.recordedAt) > Date.parse(s.knownAt));
    if (late) fail('view', `the event at position ${late.position} was recorded after knownAt`);
    pass('view', `folding the ${events.length} events with catalogue ${s.catalogue} gives the statement's view`);
    return { ok: true, reason: null, checks, notChecked, key };
  } catch (error) {
    if (!(error instanceof Failed)) {
      checks.push({ name: 'statement', ok: false, detail: `not a statement this verifier can read: ${(error as Error).message}` });
      return { ok: false, reason: checks[checks.length - 1].detail, checks, notChecked, key };
    }
    return { ok: false, reason: error.message, checks, notChecked, key };
  }
}

function toRecorded(e: StatementEvent): RecordedEvent {
  return {
    eventId: e.eventId,
    type: e.type,
    streamId: e.streamId,
    revision: e.revision,
    position: BigInt(e.position),
    data: e.data,
    metadata: e.metadata as unknown as RecordedEvent['metadata'],
  };
}

/** Whether a legacy hashed metadata text says what the metadata says (recordedAt inside or not). */
function sameMetadata(hashed: string, metadata: Record<string, unknown>): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(hashed);
  } catch {
    return false;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return false;
  const withRecordedAt = { recordedAt: metadata.recordedAt, ...(parsed as Record<string, unknown>) };
  return canonicalJson(withRecordedAt) === canonicalJson(metadata);
}

/** The first dotted path where two JSON values differ (for a readable reason). */
function firstDifference(a: unknown, b: unknown, path = ''): string | null {
  if (canonicalJson(a) === canonicalJson(b)) return null;
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      if (d) return d;
    }
  }
  return path || null;
}

const INSTANTISH = /^\d{4}-\d{2}-\d{2}T/;

/** Checks the statement's shape before anything is computed from it. */
function shapeOf(input: unknown, fail: (name: string, detail: string) => never): Statement {
  const s = input as Partial<Statement> | null;
  if (!s || typeof s !== 'object' || Array.isArray(s)) fail('format', 'not a JSON object');
  if (s!.format !== STATEMENT_FORMAT) fail('format', `not a ${STATEMENT_FORMAT} statement (format ${JSON.stringify(s!.format)})`);
  const st = s as Statement;
  if (typeof st.serial !== 'string' || typeof st.at !== 'string' || typeof st.knownAt !== 'string' || typeof st.issuedAt !== 'string' || !INSTANTISH.test(st.knownAt)) {
    fail('format', 'serial, at, knownAt or issuedAt is missing');
  }
  if (!st.view || typeof st.view !== 'object') fail('format', 'the view is missing');
  if (!Array.isArray(st.events)) fail('format', 'the events are missing');
  for (const e of st.events) {
    const ok =
      e && typeof e === 'object' && typeof e.position === 'string' && /^\d{1,20}$/.test(e.position) && typeof e.eventId === 'string' &&
      typeof e.type === 'string' && typeof e.streamId === 'string' && Number.isInteger(e.revision) && typeof e.recordedAt === 'string' &&
      typeof e.hash === 'string' && typeof e.previousHash === 'string' && e.metadata !== null && typeof e.metadata === 'object' &&
      !Array.isArray(e.metadata) && (e.hashedMetadata === undefined || typeof e.hashedMetadata === 'string');
    if (!ok) fail('format', `an event is malformed (${JSON.stringify(e).slice(0, 80)})`);
  }
  const i = st.integrity;
  if (!i || (i.chain !== 'global' && i.chain !== 'per-stream') || typeof i.publicKey !== 'string') fail('format', 'the integrity section is missing or malformed');
  const c = i.checkpoint;
  if (!c || typeof c.position !== 'string' || !/^\d{1,20}$/.test(c.position) || typeof c.hash !== 'string' || typeof c.signature !== 'string' || typeof c.keyId !== 'string') {
    fail('format', 'the checkpoint is missing or malformed');
  }
  const a = st.attestation;
  if (!a || a.algorithm !== 'Ed25519' || typeof a.digest !== 'string' || typeof a.signature !== 'string' || typeof a.keyId !== 'string') {
    fail('format', 'the attestation is missing or malformed');
  }
  return st;
}
