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
