/**
 * How the SQLite log keeps an event's id and hash: a UUID as its 16 bytes (any other id as its
 * text), a sha256 as its 32 bytes. Half the bytes of their hex text, in the table and in the
 * unique index on ids, on every event.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The stored form of an event id: 16 bytes for a lower-case UUID, else the text itself. */
export function idKey(eventId: string): Buffer | string {
  return UUID.test(eventId) ? Buffer.from(eventId.replace(/-/g, ''), 'hex') : eventId;
}

export function idText(stored: Buffer | Uint8Array | string): string {
  if (typeof stored === 'string') return stored;
  const hex = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function hashKey(hash: string): Buffer {
  return Buffer.from(hash, 'hex');
}

export function hashText(stored: Buffer | Uint8Array | string): string {
  return typeof stored === 'string' ? stored : Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength).toString('hex');
}
