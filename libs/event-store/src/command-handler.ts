import { type AppendResult, ConcurrencyConflict, type EventStore, type ExpectedRevision, type NewEvent } from './port';

/** What evolve sees: stored events while folding, then the newly decided events. */
export type DomainEvent = { type: string; data: unknown };

export interface CommandHandling<S, E extends DomainEvent> {
  initialState(): S;
  evolve(state: S, event: E): S;
  /** Pure: returns the new events, or throws a domain refusal (which propagates untouched). */
  decide(state: S): NewEvent[];
  /** A caller's If-Match: append at exactly this revision and never retry. */
  expectedRevision?: ExpectedRevision;
  /** Re-read and re-decide this many times after a ConcurrencyConflict. Default 5. */
  maxRetries?: number;
}

export interface CommandResult<S> {
  /** The state after the new events. */
  state: S;
  appended: AppendResult | null;
  events: NewEvent[];
}

export async function handleCommand<S, E extends DomainEvent = DomainEvent>(
  store: EventStore,
  streamId: string,
  { initialState, evolve, decide, expectedRevision, maxRetries = 5 }: CommandHandling<S, E>,
): Promise<CommandResult<S>> {
  const fold = (state: S, events: DomainEvent[]) => events.reduce((s, e) => evolve(s, e as E), state);
  for (let attempt = 0; ; attempt += 1) {
    const stored = await store.readStream(streamId);
    const state = fold(initialState(), stored);
    const events = decide(state);
    if (events.length === 0) return { state, appended: null, events };
    const expected = expectedRevision ?? (stored.length > 0 ? stored[stored.length - 1].revision : 'no_stream');
    try {
      const appended = await store.appendToStream(streamId, events, { expectedRevision: expected });
      return { state: fold(state, events), appended, events };
    } catch (error) {
      if (!(error instanceof ConcurrencyConflict) || expectedRevision !== undefined || attempt >= maxRetries) throw error;
    }
  }
}
