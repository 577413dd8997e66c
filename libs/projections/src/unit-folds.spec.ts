/**
 * The per-unit folds kept in memory: bounded by their events, least recently used out first, dropped
 * per unit by a batch and all at once by a rebuild, and never kept when gathered across a change.
 */
import { defaultCatalogue, RecordedEvent, UnitFold } from '@careledger/domain';
import { UnitFolds } from './models/entitlements';

const catalogue = defaultCatalogue();

function fold(serial: string, events: number): UnitFold {
  const list: RecordedEvent[] = Array.from({ length: events }, (_, i) => ({
    eventId: `${serial}-${i}`,
    type: 'DeviceActivated',
    streamId: `device-${serial}`,
    revision: i,
    position: BigInt(i + 1),
    data: {},
    metadata: { occurredAt: '2024-01-01T00:00:00Z', recordedAt: '2024-01-01T00:00:00Z', actor: 't', correlationId: 'c' },
  }));
  return new UnitFold(catalogue, serial, list);
}

describe('UnitFolds', () => {
  test('keeps folds up to its event bound, dropping the least recently used first', () => {
    const folds = new UnitFolds(10);
    folds.keep(fold('A', 4), folds.current);
    folds.keep(fold('B', 4), folds.current);
    expect(folds.get('A')?.serial).toBe('A'); // A is now the most recently used
    folds.keep(fold('C', 4), folds.current);
    expect(folds.get('B')).toBeUndefined();
    expect(folds.get('A')?.serial).toBe('A');
    expect(folds.get('C')?.serial).toBe('C');
    expect(folds.size).toEqual({ units: 2, events: 8 });
    folds.keep(fold('D', 11), folds.current); // larger than the whole bound: not kept
    expect(folds.get('D')).toBeUndefined();
    expect(folds.size).toEqual({ units: 2, events: 8 });
  });

  test('a batch drops the folds of the units it changed; a rebuild drops every fold', () => {
    const folds = new UnitFolds(100);
    for (const s of ['A', 'B', 'C']) folds.keep(fold(s, 2), folds.current);
    folds.forget(['B', 'Z']);
    expect(folds.get('B')).toBeUndefined();
    expect(folds.get('A')).toBeDefined();
    folds.clear();
    expect(folds.size).toEqual({ units: 0, events: 0 });
    expect(folds.get('A')).toBeUndefined();
  });

  test('a fold gathered while a batch was applied is not kept (it may predate the batch)', () => {
    const folds = new UnitFolds(100);
    const before = folds.current;
    folds.forget(['X']); // a batch lands while the fold is being gathered
    folds.keep(fold('A', 2), before);
    expect(folds.get('A')).toBeUndefined();
    folds.keep(fold('A', 2), folds.current);
    expect(folds.get('A')).toBeDefined();
  });

  test('keeping a unit again replaces its fold and counts its events once', () => {
    const folds = new UnitFolds(100);
    folds.keep(fold('A', 3), folds.current);
    folds.keep(fold('A', 5), folds.current);
    expect(folds.size).toEqual({ units: 1, events: 5 });
  });
});
