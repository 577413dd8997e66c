/**
 * RULES section 1 (T1-T4): calendar windows in the region's zone, half-open, month-end clamped,
 * exact elapsed durations, business time versus recorded time. DST days: 2024-03-10 and 2024-11-03
 * in America/Los_Angeles, 2024-03-31 and 2024-10-27 in Europe/Berlin.
 */
import * as fc from 'fast-check';
import { DateTime } from 'luxon';
import {
  activate, bindPlan, claim, DAYS, givenHistory, HOURS, MemoryLedger, plusMs, purchase, renew, verify,
} from '@careledger/testing';
import { defaultCatalogue } from '../catalogue/default';
import { dateInZone, instantInZone, startOfDay } from '../time';

describe('T1: windows start at 0:00 of their first day in the region zone and are half-open', () => {
  test('T1: an incident at the last instant before `until` is covered', async () => {
    const h = await givenHistory(purchase({}));
    await h.when(claim({ incidentAt: '2025-03-09T23:59:59.999-07:00' })).then([{ type: 'ClaimOpened' }]);
  });

  test('T1: an incident at 0:00 of `until` (the first day no longer covered) is refused with OutsideValidity', async () => {
    const h = await givenHistory(purchase({}));
    const err = await h.when(claim({ incidentAt: '2025-03-10T00:00:00-07:00' })).thenRejects('OutsideValidity');
    expect((err as { rule?: string }).rule).toBe('R2');
  });

  test('T1: an EU window opens at 0:00 Berlin time (23:00Z the day before), not at 0:00 UTC', async () => {
    const h = await givenHistory(
      purchase({ region: 'EU', channel: 'bundle', purchasedAt: '2024-03-01T12:00:00+01:00' }),
      activate('A', '2024-03-10T00:30:00+01:00', 'Mavic 3', 'EU'),
    );
    expect(h.ledger.entitlements('A', '2024-03-10').replacement.window).toEqual({ from: '2024-03-10', until: '2025-03-10' });
    await h.when(claim({ incidentAt: '2024-03-09T23:00:00Z' })).then([{ type: 'ClaimOpened' }]);
  });

  test('T1: one millisecond before 0:00 Berlin on D is before coverage (IncidentBeforeCoverage)', async () => {
    const h = await givenHistory(
      purchase({ region: 'EU', channel: 'bundle', purchasedAt: '2024-03-01T12:00:00+01:00' }),
      activate('A', '2024-03-10T00:30:00+01:00', 'Mavic 3', 'EU'),
    );
    await h.when(claim({ incidentAt: '2024-03-09T22:59:59.999Z', openedAt: '2024-03-10T10:00:00+01:00' })).thenRejects('IncidentBeforeCoverage');
  });

  test('T1: the view as of the purchase day (a date, 0:00) already shows the plan bought that day', async () => {
    const h = await givenHistory(purchase({}));
    const view = h.ledger.entitlements('A', '2024-03-10');
    expect(view.coverage).toBe('active');
    expect(view.replacement.window).toEqual({ from: '2024-03-10', until: '2025-03-10' });
    expect(h.ledger.entitlements('A', '2024-03-09T23:59:59.999-08:00').coverage).toBe('none');
  });

  test('T1: the view at `until` is expired, one millisecond before it is active', async () => {
    const h = await givenHistory(purchase({}));
    expect(h.ledger.entitlements('A', '2025-03-09T23:59:59.999-07:00').coverage).toBe('active');
    expect(h.ledger.entitlements('A', '2025-03-10').coverage).toBe('expired');
    expect(h.ledger.entitlements('A', '2025-03-10').replacement.window).toBeNull();
  });
});

describe('T2: calendar arithmetic in the region reference zone, month-end clamped', () => {
  test('T2: the same instant is 2024-03-10 in Los Angeles and 2024-03-11 in Tokyo: D follows the region', async () => {
    const instant = '2024-03-11T05:00:00Z';
    const us = await givenHistory(purchase({ purchasedAt: instant }));
    expect(us.ledger.entitlements('A', '2024-03-12').chain).toEqual([{ kind: '1y', from: '2024-03-10', until: '2025-03-10' }]);
    const jp = await givenHistory(purchase({ region: 'JP', purchasedAt: instant }));
    expect(jp.ledger.entitlements('A', '2024-03-12').chain).toEqual([{ kind: '1y', from: '2024-03-11', until: '2025-03-11' }]);
  });

  test('T2: 2024-02-29 + 12 months = 2025-02-28 (a 1-Year plan from a leap day)', async () => {
    const h = await givenHistory(purchase({ purchasedAt: '2024-02-29T10:00:00-08:00' }));
    expect(h.ledger.entitlements('A', '2024-03-01').replacement.window).toEqual({ from: '2024-02-29', until: '2025-02-28' });
    await h.when(claim({ incidentAt: '2025-02-27T23:59:59.999-08:00' })).then([{ type: 'ClaimOpened' }]);
  });

  test('T2: on a 1-Year plan from 2024-02-29 an incident at 2025-02-28 0:00 is outside (clamped end, not March 1)', async () => {
    const h = await givenHistory(purchase({ purchasedAt: '2024-02-29T10:00:00-08:00' }));
    await h.when(claim({ incidentAt: '2025-02-28T00:00:00-08:00' })).thenRejects('OutsideValidity');
  });

  test('T2: a 2-Year plan from 2024-02-29 runs to 2026-02-28 with extended warranty [2025-02-28, 2026-02-28)', async () => {
    const h = await givenHistory(purchase({ term: '2y', purchasedAt: '2024-02-29T10:00:00-08:00' }));
    const view = h.ledger.entitlements('A', '2024-03-01');
    expect(view.replacement.window).toEqual({ from: '2024-02-29', until: '2026-02-28' });
    expect(view.warranty.extensions[0]).toEqual({ kind: 'plan-year-2', from: '2025-02-28', until: '2026-02-28', status: 'granted' });
    await h.when(claim({ incidentAt: '2026-02-28T00:00:00-08:00' })).thenRejects('OutsideValidity');
  });

  test('T2: renewals of a leap-day plan follow on without gap: [2025-02-28, 2026-02-28), [2026-02-28, 2027-02-28)', async () => {
    const h = await givenHistory(
      purchase({ purchasedAt: '2024-02-29T10:00:00-08:00' }),
      renew('P1', '2025-02-01T10:00:00-08:00'),
      renew('P1', '2026-02-01T10:00:00-08:00'),
    );
    expect(h.ledger.entitlements('A', '2026-02-02').chain).toEqual([
      { kind: '1y', from: '2024-02-29', until: '2025-02-28' },
      { kind: 'renewal', from: '2025-02-28', until: '2026-02-28' },
      { kind: 'renewal', from: '2026-02-28', until: '2027-02-28' },
    ]);
  });

  test('T2 (DST, Los Angeles 2024-03-10): a window from 2024-03-10 opens at 0:00 PST (08:00Z), the 23-hour day counts whole', async () => {
    const h = await givenHistory(
      purchase({ channel: 'bundle', purchasedAt: '2024-03-01T12:00:00-08:00' }),
      activate('A', '2024-03-10T09:00:00-07:00'),
    );
    await h.when(claim({ incidentAt: '2024-03-10T00:00:00-08:00', openedAt: '2024-03-10T10:00:00-07:00' })).then([{ type: 'ClaimOpened' }]);
    await h.when(claim({ incidentAt: '2024-03-10T07:59:59.999Z', openedAt: '2024-03-10T10:00:00-07:00' })).thenRejects('IncidentBeforeCoverage');
  });

  test('T2 (DST, Los Angeles 2024-11-03): a window ending 2024-11-03 ends at 0:00 PDT (07:00Z), before the clocks go back', async () => {
    const h = await givenHistory(purchase({ purchasedAt: '2023-11-03T10:00:00-07:00' }));
    expect(h.ledger.entitlements('A', '2024-01-01').replacement.window).toEqual({ from: '2023-11-03', until: '2024-11-03' });
    await h.when(claim({ incidentAt: '2024-11-03T06:59:59.999Z' })).then([{ type: 'ClaimOpened' }]);
    await h.when(claim({ incidentAt: '2024-11-03T07:00:00Z' })).thenRejects('OutsideValidity');
  });

  test('T2 (DST, Berlin 2024-03-31): a window from 2024-03-31 opens at 0:00 CET (23:00Z the day before)', async () => {
    const h = await givenHistory(
      purchase({ region: 'EU', channel: 'bundle', purchasedAt: '2024-03-20T12:00:00+01:00' }),
      activate('A', '2024-03-31T10:00:00+02:00', 'Mavic 3', 'EU'),
    );
    expect(h.ledger.entitlements('A', '2024-03-31').replacement.window).toEqual({ from: '2024-03-31', until: '2025-03-31' });
    await h.when(claim({ incidentAt: '2024-03-30T23:00:00Z', openedAt: '2024-03-31T10:00:00+02:00' })).then([{ type: 'ClaimOpened' }]);
    await h.when(claim({ incidentAt: '2024-03-30T22:59:59.999Z', openedAt: '2024-03-31T10:00:00+02:00' })).thenRejects('IncidentBeforeCoverage');
  });

  test('T2 (DST, Berlin 2024-10-27): a window ending 2024-10-27 ends at 0:00 CEST (22:00Z the day before)', async () => {
    const h = await givenHistory(purchase({ region: 'EU', purchasedAt: '2023-10-27T10:00:00+02:00' }));
    await h.when(claim({ incidentAt: '2024-10-26T21:59:59.999Z' })).then([{ type: 'ClaimOpened' }]);
    await h.when(claim({ incidentAt: '2024-10-26T22:00:00Z' })).thenRejects('OutsideValidity');
  });
});

describe('T3: 48 h, 30 d and 72 h are exact elapsed durations, the limit included', () => {
  test('T3: aircraft bought exactly 48 h after activation across the 2024-03-10 spring-forward (49 h on the wall clock) is accepted', async () => {
    // 2024-03-09T12:00-08:00 = 20:00Z; 48 h later = 2024-03-11T20:00Z = 13:00 PDT.
    const h = await givenHistory(activate('A', '2024-03-09T12:00:00-08:00'));
    await h.when(purchase({ purchasedAt: '2024-03-11T13:00:00-07:00' })).then([{ type: 'DeviceBoundToPlan' }, { type: 'PlanPurchased' }]);
  });

  test('T3: the same purchase 1 ms after the 48 h is refused with PurchaseWindowClosed', async () => {
    const h = await givenHistory(activate('A', '2024-03-09T12:00:00-08:00'));
    await h.when(purchase({ purchasedAt: '2024-03-11T13:00:00.001-07:00' })).thenRejects('PurchaseWindowClosed');
  });

  test('T3: across the 2024-11-03 fall-back, 48 h end at 11:00 PST (47 h on the wall clock): 11:00 accepted, +1 ms refused', async () => {
    const h = await givenHistory(activate('A', '2024-11-02T12:00:00-07:00'));
    await h.when(purchase({ purchasedAt: '2024-11-04T11:00:00-08:00' })).then([{ type: 'DeviceBoundToPlan' }, { type: 'PlanPurchased' }]);
    await h.when(purchase({ purchasedAt: '2024-11-04T11:00:00.001-08:00' })).thenRejects('PurchaseWindowClosed');
  });

  test('T3: handheld bought exactly 30 days after activation across Berlin 2024-03-31 (13:00 CEST, not 12:00) is accepted', async () => {
    // 2024-03-01T12:00+01:00 = 11:00Z; + 30 x 24 h = 2024-03-31T11:00Z = 13:00+02:00.
    const h = await givenHistory(activate('A', '2024-03-01T12:00:00+01:00', 'Osmo Pocket 3', 'EU'));
    await h.when(purchase({ model: 'Osmo Pocket 3', region: 'EU', purchasedAt: '2024-03-31T13:00:00+02:00' })).then([
      { type: 'DeviceBoundToPlan' },
      { type: 'PlanPurchased' },
    ]);
  });

  test('T3: the handheld purchase 1 ms after 30 days is refused with PurchaseWindowClosed', async () => {
    const h = await givenHistory(activate('A', '2024-03-01T12:00:00+01:00', 'Osmo Pocket 3', 'EU'));
    await h.when(purchase({ model: 'Osmo Pocket 3', region: 'EU', purchasedAt: '2024-03-31T13:00:00.001+02:00' })).thenRejects('PurchaseWindowClosed');
  });

  test('T3: 30 days across Berlin 2024-10-27 end at 11:00 CET: accepted then, refused 1 ms later', async () => {
    const h = await givenHistory(activate('A', '2024-10-01T12:00:00+02:00', 'Osmo Pocket 3', 'EU'));
    await h.when(purchase({ model: 'Osmo Pocket 3', region: 'EU', purchasedAt: '2024-10-31T11:00:00+01:00' })).then([
      { type: 'DeviceBoundToPlan' },
      { type: 'PlanPurchased' },
    ]);
    await h.when(purchase({ model: 'Osmo Pocket 3', region: 'EU', purchasedAt: '2024-10-31T11:00:00.001+01:00' })).thenRejects('PurchaseWindowClosed');
  });

  test('T3: exactly 72 h after a video verification across Berlin 2024-03-31 is accepted', async () => {
    const h = await givenHistory(
      activate('A', '2024-03-01T12:00:00+01:00', 'Mavic 3', 'EU'),
      verify('A', '2024-03-29T12:00:00+01:00'),
    );
    // 2024-03-29T11:00Z + 72 h = 2024-04-01T11:00Z = 13:00+02:00.
    await h.when(purchase({ region: 'EU', purchasedAt: '2024-04-01T13:00:00+02:00' })).then([{ type: 'DeviceBoundToPlan' }, { type: 'PlanPurchased' }]);
  });

  test('T3: 1 ms after the 72 h the purchase is refused with VerificationExpired', async () => {
    const h = await givenHistory(
      activate('A', '2024-03-01T12:00:00+01:00', 'Mavic 3', 'EU'),
      verify('A', '2024-03-29T12:00:00+01:00'),
    );
    await h.when(purchase({ region: 'EU', purchasedAt: '2024-04-01T13:00:00.001+02:00' })).thenRejects('VerificationExpired');
  });

  test('T3: 48 h measured on instants with different offsets (activation in UTC, purchase in PDT)', async () => {
    const h = await givenHistory(activate('A', '2024-05-01T09:00:00Z'));
    await h.when(purchase({ purchasedAt: plusMs('2024-05-01T09:00:00Z', 48 * HOURS).replace('Z', '+00:00') })).then([
      { type: 'DeviceBoundToPlan' },
      { type: 'PlanPurchased' },
    ]);
    await h.when(purchase({ purchasedAt: '2024-05-03T02:00:00.001-07:00' })).thenRejects('PurchaseWindowClosed');
  });
});

describe('T4: business time (occurredAt) versus recorded time (recordedAt)', () => {
  test('T4: a sale reported two years late is judged on its business time (within 48 h of activation) and accepted', async () => {
    const h = await givenHistory(activate('A', '2024-05-01T09:00:00Z'));
    expect(h.ledger.now >= '2026-11-01').toBe(true);
    await h.when(purchase({ purchasedAt: '2024-05-02T09:00:00Z' })).then([{ type: 'DeviceBoundToPlan' }, { type: 'PlanPurchased' }]);
  });

  test('T4: each recorded event carries occurredAt (business) and recordedAt (ledger clock) separately', async () => {
    const ledger = new MemoryLedger();
    const { recorded } = await ledger.run(purchase({ purchasedAt: '2024-05-02T09:00:00Z' }));
    const plan = recorded.find((e) => e.type === 'PlanPurchased')!;
    expect(plan.metadata.occurredAt).toBe('2024-05-02T09:00:00Z');
    expect(plan.metadata.recordedAt).toBe(ledger.now);
    // As known before it was recorded, the sale is not there, even for a business time after it.
    const before = plusMs(plan.metadata.recordedAt, -1);
    expect(ledger.entitlements('A', '2024-06-01', before).coverage).toBe('none');
    expect(ledger.entitlements('A', '2024-06-01', plan.metadata.recordedAt).coverage).toBe('active');
  });

  test('T4: a late purchase reported after the window (in business time) is still refused, however it is recorded', async () => {
    const h = await givenHistory(activate('A', '2024-05-01T09:00:00Z'));
    await h.when(purchase({ purchasedAt: plusMs('2024-05-01T09:00:00Z', 48 * HOURS + 1) })).thenRejects('PurchaseWindowClosed');
  });

  test('T4: a business instant up to the tolerated 5 minutes of clock skew is accepted', async () => {
    const ledger = new MemoryLedger();
    const limit = plusMs(ledger.now, 5 * 60_000);
    await ledger.run(activate('A', limit));
    expect(ledger.events).toHaveLength(1);
  });

  test('T4: a business instant beyond the clock skew is refused with OccurredInFuture', async () => {
    const ledger = new MemoryLedger();
    const h = await givenHistory();
    await h.when(activate('A', plusMs(ledger.now, 5 * 60_000 + 1))).thenRejects('OccurredInFuture');
  });

  test('T4: a correction cannot move a business instant into the future either (OccurredInFuture)', async () => {
    const h = await givenHistory(purchase({}));
    const plan = h.ledger.events.find((e) => e.type === 'PlanPurchased')!;
    await h.when({ type: 'CorrectEvent', eventId: plan.eventId, streamId: plan.streamId, action: 'amend', reason: 'typo', amendment: { purchasedAt: '2204-03-10T10:00:00-07:00' } }).thenRejects('OccurredInFuture');
    await h.when({ type: 'CorrectEvent', eventId: plan.eventId, streamId: plan.streamId, action: 'amend', reason: 'typo', amendment: { purchasedAt: '2024-03-11T10:00:00-07:00' } }).then([{ type: 'EventCorrected' }]);
  });

  test('T4: a card plan bound late: its binding instant (business time), not the recording, decides P4', async () => {
    const h = await givenHistory(
      activate('A', '2024-05-01T09:00:00Z'),
      purchase({ channel: 'card', serial: null, purchasedAt: '2024-04-20T09:00:00Z' }),
    );
    h.ledger.tick(30 * DAYS);
    await h.when(bindPlan('P1', 'A', '2024-05-03T09:00:00Z')).then([{ type: 'DeviceBoundToPlan' }, { type: 'PlanBound' }]);
  });
});

describe('T2: zone arithmetic agrees with Luxon (the offsets are cached per zone and year)', () => {
  const zones = [...new Set(Object.values(defaultCatalogue().data.regions).map((r) => r.zone))];
  test('T2: for random instants 1990-2040 in every catalogue zone: the rendering, the date and 0:00 of that date', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2040, 0, 1) }), fc.constantFrom(...zones), (ms, zone) => {
        const dt = DateTime.fromMillis(ms, { zone });
        expect(instantInZone(ms, zone)).toBe(dt.toISO());
        expect(dateInZone(ms, zone)).toBe(dt.toISODate());
        expect(startOfDay(dt.toISODate()!, zone)).toBe(dt.startOf('day').toMillis());
      }),
      { numRuns: 3000, seed: 20261201 },
    );
  });

  test('T2: around every transition of 2024 the instant before and after render with their own offsets', () => {
    for (const zone of zones) {
      for (let ms = Date.UTC(2024, 0, 1); ms < Date.UTC(2025, 0, 1); ms += 3_600_000) {
        for (const t of [ms - 1, ms, ms + 1]) expect(instantInZone(t, zone)).toBe(DateTime.fromMillis(t, { zone }).toISO());
      }
    }
  });
});
