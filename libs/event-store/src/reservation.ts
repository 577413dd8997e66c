import { type AppendResult, ConcurrencyConflict, type EventStore, type NewEvent } from './port';
import type { DomainEvent } from './command-handler';

export interface ReservationSpec<Owner> {
  /** Does this stream already hold a reservation? */
  isReserved(events: readonly DomainEvent[]): boolean;
  /** Who holds it (called only when isReserved is true). */
  ownerOf(events: readonly DomainEvent[]): Owner;
  /** The event that takes the reservation, e.g. DeviceBoundToPlan { planId }. */
  reservationEvent: NewEvent;
  /** Re-reads after a ConcurrencyConflict caused by unrelated events. Default 10. */
  maxRetries?: number;
}

export interface Reservation<Owner> {
  won: boolean;
  owner: Owner;
  /** The append that took the reservation; null when it was already taken. */
  appended: AppendResult | null;
}

/**
 * Takes a once-in-a-lifetime reservation without multi-stream transactions: the stream itself is
 * the lock. Appending with the exact revision that was read means at most one writer can turn
 * "not reserved" into "reserved"; every other writer conflicts, re-reads and learns the owner.
 * Write the guarded stream (e.g. the plan) only after `won` is true.
 */
export async function reserveOnce<Owner>(
  store: EventStore,
  streamId: string,
  { isReserved, ownerOf, reservationEvent, maxRetries = 10 }: ReservationSpec<Owner>,
): Promise<Reservation<Owner>> {
  for (let attempt = 0; ; attempt += 1) {
    const events = await store.readStream(streamId);
    if (isReserved(events)) {
      // Our own reservation, from an earlier attempt whose answer was lost, still counts as won.
      const won = events.some((e) => e.eventId === reservationEvent.eventId);
      return { won, owner: ownerOf(events), appended: null };
    }
    const expectedRevision = events.length > 0 ? events[events.length - 1].revision : 'no_stream';
    try {
      const appended = await store.appendToStream(streamId, [reservationEvent], { expectedRevision });
      return { won: true, owner: ownerOf([...events, reservationEvent]), appended };
    } catch (error) {
      if (!(error instanceof ConcurrencyConflict) || attempt >= maxRetries) throw error;
    }
  }
}
