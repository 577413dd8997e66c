import { createHash } from 'node:crypto';

/** The "previous hash" of the first event of a chain. */
export const GENESIS_HASH = 'careledger:event-store:genesis:v1';

/**
 * JSON with object keys sorted at every depth, so the text (and a hash over it) depends only on the
 * value, not on the key order an exporter or importer happened to use. Otherwise JSON.stringify
 * semantics apply (toJSON, undefined properties dropped, BigInt throws).
 */
export function canonicalJson(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) sorted[key] = (v as Record<string, unknown>)[key];
    return sorted;
  });
  return text ?? 'null';
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** One link of a hash chain: `fields` must already be canonical text (strings or numbers). */
export function chainHash(previousHash: string, fields: ReadonlyArray<string | number>): string {
  return sha256Hex(`${previousHash}\n${JSON.stringify(fields)}`);
}

/** The fields of a stored event that its chain hash covers (data and metadata as canonical JSON text). */
export interface HashedEvent {
  position: bigint;
  eventId: string;
  streamId: string;
  revision: number;
  type: string;
  recordedAt: string;
  data: string;
  metadata: string;
}

/**
 * The hash of an event in a global chain (SQLite, PostgreSQL): it covers the previous event's hash,
 * the event's own place in the log and its whole content, so a changed, removed or reordered event
 * breaks the chain at or right after it. The same formula on every store, so an export verifies
 * wherever it is imported.
 */
export function eventHash(previousHash: string, e: HashedEvent): string {
  return chainHash(previousHash, [e.position.toString(), e.eventId, e.streamId, e.revision, e.type, e.recordedAt, e.data, e.metadata]);
}

/**
 * The metadata text an event's chain hash covers: its canonical JSON without recordedAt (the hash
 * covers recordedAt on its own), unless the event says otherwise (`hashedMetadata`: events
 * appended before that rule, whose stored metadata has recordedAt inside).
 */
export function hashedMetadataOf(e: { metadata: object; hashedMetadata?: string }): string {
  if (e.hashedMetadata !== undefined) return e.hashedMetadata;
  const { recordedAt: _recordedAt, ...rest } = e.metadata as Record<string, unknown>;
  return canonicalJson(rest);
}

/** The chain hash of a stored event after `previousHash` (what stores with a global chain stamp). */
export function storedEventHash(
  previousHash: string,
  e: { position: bigint | string; eventId: string; streamId: string; revision: number; type: string; data: unknown; metadata: { recordedAt: string }; hashedMetadata?: string },
): string {
  return eventHash(previousHash, {
    position: BigInt(e.position),
    eventId: e.eventId,
    streamId: e.streamId,
    revision: e.revision,
    type: e.type,
    recordedAt: e.metadata.recordedAt,
    data: canonicalJson(e.data),
    metadata: hashedMetadataOf(e),
  });
}
