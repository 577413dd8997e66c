/**
 * Given/when/then for deciders:
 *   given(device('A', activated(...)), plan('P', purchased(...))).when(command).then([...])
 *   ....when(command).thenRejects('RenewalWindowClosed')
 * `then` matches the appended events (type and a subset of data) in order, stream by stream.
 */
import { Command, Decision, DomainEvent, Refusal, StateConflict, InvalidCommand, NotFound } from '@careledger/domain';
import { MemoryLedger } from './memory-ledger';

export interface Given {
  streamId: string;
  events: DomainEvent[];
}

export interface Expected {
  stream?: string;
  type: string;
  data?: Record<string, unknown>;
}

export function given(...facts: Given[]) {
  const ledger = new MemoryLedger();
  for (const f of facts) ledger.record(f.streamId, ...f.events);
  return on(ledger);
}

/**
 * Given a history told as commands (each must be accepted; raw `stream(...)` facts are recorded as
 * they are), then when/then on the ledger that results:
 *   (await givenHistory(purchase(...), renew(...))).when(command).thenRejects('MaxTermExceeded')
 */
export async function givenHistory(...steps: (Command | Given)[]) {
  const ledger = new MemoryLedger();
  for (const step of steps) {
    if (!('type' in step)) {
      ledger.record(step.streamId, ...step.events);
      continue;
    }
    try {
      await ledger.run(step);
    } catch (error) {
      const code = (error as { code?: string }).code ?? (error as Error).name;
      throw new Error(`given step ${step.type} was refused (${code}): ${(error as Error).message}`, { cause: error });
    }
  }
  return on(ledger);
}

/** Given/when/then over an existing ledger. */
export function on(ledger: MemoryLedger) {
  return {
    ledger,
    at(instant: string) {
      ledger.advanceTo(instant);
      return this;
    },
    when(command: Command) {
      const decided = ledger.decide(command).then(
        (decision) => ({ decision, error: null as unknown }),
        (error: unknown) => ({ decision: null as Decision | null, error }),
      );
      return {
        async then(expected: Expected[] | ((d: Decision) => void)): Promise<Decision> {
          const { decision, error } = await decided;
          if (error) throw error;
          if (typeof expected === 'function') {
            expected(decision!);
            return decision!;
          }
          const actual = decision!.appends.flatMap((a) => a.events.map((e) => ({ stream: a.streamId, type: e.type, data: e.data })));
          expect(actual.map((a) => a.type)).toEqual(expected.map((e) => e.type));
          expected.forEach((e, i) => {
            if (e.stream) expect(actual[i].stream).toBe(e.stream);
            if (e.data) expect(actual[i].data).toMatchObject(e.data);
          });
          return decision!;
        },
        async thenRejects(code: string): Promise<Refusal | StateConflict | InvalidCommand | NotFound> {
          const { decision, error } = await decided;
          if (!error) throw new Error(`expected ${code}, but the command was accepted: ${JSON.stringify(decision!.appends)}`);
          const err = error as { code?: string; errors?: { field: string }[] };
          const actual = err instanceof InvalidCommand ? 'InvalidCommand' : err.code;
          if (actual !== code) {
            throw new Error(`expected ${code}, got ${actual}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
          }
          return error as Refusal;
        },
      };
    },
  };
}

export const stream = (streamId: string, ...events: DomainEvent[]): Given => ({ streamId, events });
