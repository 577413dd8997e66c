/**
 * RULES section 8 (X1-X2): corrections are new events that void or amend an earlier one; replay
 * before a correction's recordedAt shows history as it was known, after it shows it corrected; a
 * correction that makes a fulfilled replacement ineligible is flagged, never silently undone.
 */
import {
  activate, approve, carePlus, claim, correct, givenHistory, lastEvent, MemoryLedger, on, plusMs, purchase, refusalOf, renew, replaceUnit,
  sweep,
} from '@careledger/testing';

describe('X1: void and amend, replay by knownAt', () => {
  test('X1: voiding an approval releases its quota; before the correction the approval still shows', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await ledger.run(claim({ incidentAt: '2024-06-01T10:00:00-07:00' }));
    await ledger.run(approve('P1', 'C1', '2024-06-02T10:00:00-07:00'));
    const approval = lastEvent(ledger, 'ClaimApproved');
    const { recorded } = await ledger.run(correct(approval, 'void', null, 'approved by mistake'));
    const correction = recorded[0];
    expect(correction).toMatchObject({
      type: 'EventCorrected',
      streamId: approval.streamId,
      data: { targetEventId: approval.eventId, targetType: 'ClaimApproved', action: 'void', reason: 'approved by mistake', amendment: null },
      metadata: { actor: 'test' },
    });
    const before = plusMs(correction.metadata.recordedAt, -1);
    expect(ledger.entitlements('A', '2024-06-03', before).replacement).toMatchObject({ remaining: 1, used: 1 });
    expect(ledger.entitlements('A', '2024-06-03').replacement).toMatchObject({ remaining: 2, used: 0 });
    expect(ledger.entitlements('A', '2024-06-03').explanation).toContainEqual({ field: 'corrections', rules: ['X1'], eventIds: [correction.eventId] });
    // Nothing was edited or deleted: the approval is still in the log.
    expect(ledger.events.filter((e) => e.eventId === approval.eventId)).toHaveLength(1);
  });

  test('X1: the voided approval claim can be approved again (ordinal 1)', async () => {
    const h = await givenHistory(purchase({}), claim({ incidentAt: '2024-06-01T10:00:00-07:00' }), approve('P1', 'C1', '2024-06-02T10:00:00-07:00'));
    await h.ledger.run(correct(lastEvent(h.ledger, 'ClaimApproved'), 'void'));
    await h.when(approve('P1', 'C1', '2024-06-03T10:00:00-07:00')).then([{ type: 'ClaimApproved', data: { ordinal: 1 } }]);
  });

  test('X1: amending the purchase instant moves D; replay before the amendment shows the old chain', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    const { recorded } = await ledger.run(correct(lastEvent(ledger, 'PlanPurchased'), 'amend', { purchasedAt: '2024-03-12T10:00:00-07:00' }, 'till date typo'));
    const knownBefore = plusMs(recorded[0].metadata.recordedAt, -1);
    expect(ledger.entitlements('A', '2024-06-01', knownBefore).chain).toEqual([{ kind: '1y', from: '2024-03-10', until: '2025-03-10' }]);
    expect(ledger.entitlements('A', '2024-06-01').chain).toEqual([{ kind: '1y', from: '2024-03-12', until: '2025-03-12' }]);
    // Decisions after the correction use the corrected facts.
    expect(await refusalOf(ledger, claim({ incidentAt: '2024-03-11T10:00:00-07:00', openedAt: '2024-03-12T11:00:00-07:00' }))).toMatchObject({ code: 'IncidentBeforeCoverage' });
  });

  test('X1: amending a bundle activation instant moves D (and the official warranty) for the views after it', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({ channel: 'bundle', purchasedAt: '2024-03-01T10:00:00-08:00' }));
    await ledger.run(activate('A', '2024-03-10T14:22:00-07:00'));
    await ledger.run(correct(lastEvent(ledger, 'DeviceActivated'), 'amend', { activatedAt: '2024-03-08T09:00:00-08:00' }));
    const view = ledger.entitlements('A', '2024-06-01');
    expect(view.chain).toEqual([{ kind: '1y', from: '2024-03-08', until: '2025-03-08' }]);
    expect(view.warranty.official).toEqual({ from: '2024-03-08', until: '2025-03-08' });
  });

  test('X1: a voided renewal shortens the chain; a new renewal is then accepted', async () => {
    const h = await givenHistory(purchase({}), renew('P1', '2025-02-01T10:00:00-08:00'), renew('P1', '2026-02-01T10:00:00-08:00'));
    await h.ledger.run(correct(lastEvent(h.ledger, 'PlanRenewed'), 'void', null, 'order refunded'));
    expect(h.ledger.entitlements('A', '2026-02-02').chain.map((t) => t.kind)).toEqual(['1y', 'renewal']);
    await h.when(renew('P1', '2026-02-15T10:00:00-08:00')).then([{ type: 'PlanRenewed' }]);
  });

  test('X1: a correction cannot be corrected, nor a unit binding (NotCorrectable)', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await ledger.run(correct(lastEvent(ledger, 'PlanPurchased'), 'amend', { price: { amount: '79.00', currency: 'USD' } }));
    expect(await refusalOf(ledger, correct(lastEvent(ledger, 'EventCorrected'), 'void'))).toMatchObject({ code: 'NotCorrectable', rule: 'X1' });
    expect(await refusalOf(ledger, correct(lastEvent(ledger, 'DeviceBoundToPlan'), 'void'))).toMatchObject({ code: 'NotCorrectable' });
  });

  test('X1: identity fields are not amendable, values are checked, void takes no amendment (InvalidCommand)', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    const target = lastEvent(ledger, 'PlanPurchased');
    for (const command of [
      correct(target, 'amend', { serial: 'B' }),
      correct(target, 'amend', { purchasedAt: '2024-03-12T10:00:00' }),
      correct(target, 'amend', { term: '3y' }),
      correct(target, 'amend', {}),
      correct(target, 'void', { term: '2y' }),
    ]) {
      expect(await refusalOf(ledger, command)).toMatchObject({ code: 'InvalidCommand' });
    }
  });

  test('X1/P2: a term amendment that would stretch the chain beyond 36 months is refused (MaxTermExceeded)', async () => {
    const h = await givenHistory(purchase({}), renew('P1', '2025-02-01T10:00:00-08:00'), renew('P1', '2026-02-01T10:00:00-08:00'));
    await h.when(correct(lastEvent(h.ledger, 'PlanPurchased'), 'amend', { term: '2y' })).thenRejects('MaxTermExceeded');
    expect(h.ledger.entitlements('A', '2026-06-01').chain.at(-1)).toMatchObject({ until: '2027-03-10' });
  });

  test('X1/N3: a term amendment to 2-Year under a Care Refresh+ is refused (NotAllowedWith2YearPlan)', async () => {
    const h = await givenHistory(purchase({ purchasedAt: '2023-03-10T10:00:00-08:00' }), carePlus('P1', '2024-01-10T10:00:00-08:00'));
    await h.when(correct(lastEvent(h.ledger, 'PlanPurchased'), 'amend', { term: '2y' })).thenRejects('NotAllowedWith2YearPlan');
  });

  test('X1/P2: a term amendment that keeps a valid chain (1Y+1Y becomes 2Y+1Y) is accepted', async () => {
    const h = await givenHistory(purchase({}), renew('P1', '2025-02-01T10:00:00-08:00'));
    await h.when(correct(lastEvent(h.ledger, 'PlanPurchased'), 'amend', { term: '2y' })).then([{ type: 'EventCorrected', data: { action: 'amend', amendment: { term: '2y' } } }]);
    await h.ledger.run(correct(lastEvent(h.ledger, 'PlanPurchased'), 'amend', { term: '2y' }));
    expect(h.ledger.entitlements('A', '2026-06-01').chain.map((t) => [t.kind, t.until])).toEqual([['2y', '2026-03-10'], ['renewal', '2027-03-10']]);
  });

  test('X1: an unknown event id is NotFound (EventNotFound), not "already voided"', async () => {
    const h = await givenHistory(purchase({}));
    await h.when(correct({ eventId: 'ev-404', streamId: 'plan-P1' }, 'void')).thenRejects('EventNotFound');
  });

  test('X1: an event already voided cannot be voided again (StateConflict AlreadyVoided)', async () => {
    const h = await givenHistory(purchase({}), renew('P1', '2025-02-01T10:00:00-08:00'));
    const renewal = lastEvent(h.ledger, 'PlanRenewed');
    await h.ledger.run(correct(renewal, 'void'));
    await h.when(correct(renewal, 'void')).thenRejects('AlreadyVoided');
  });
});

describe('X2: a correction that makes a fulfilled replacement ineligible is flagged, nothing undone', () => {
  async function fulfilled() {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await replaceUnit(ledger, { serial: 'A', claimId: 'C1', at: '2024-06-01T10:00:00-07:00', next: 'B' });
    return ledger;
  }

  test('X2: the claim cause amended to an excluded one: flagged in conflicts, B keeps the plan, the quota stays used', async () => {
    const ledger = await fulfilled();
    const opened = lastEvent(ledger, 'ClaimOpened');
    const { recorded } = await ledger.run(correct(opened, 'amend', { cause: 'theft' }, 'customer admitted theft'));
    const view = ledger.entitlements('B', '2024-06-02');
    expect(view.coverage).toBe('active');
    expect(view.replacement).toMatchObject({ remaining: 1, used: 1 });
    expect(view.conflicts).toHaveLength(1);
    expect(view.conflicts[0].rule).toBe('X2');
    expect(view.conflicts[0].detail).toContain('Excluded');
    expect(view.conflicts[0].eventIds).toEqual([
      opened.eventId, lastEvent(ledger, 'ClaimApproved').eventId, lastEvent(ledger, 'ClaimFulfilled').eventId, recorded[0].eventId,
    ]);
    expect(view.explanation.find((e) => e.field === 'conflicts')).toMatchObject({ rules: ['X2'] });
    // As known before the correction: no conflict.
    expect(ledger.entitlements('B', '2024-06-02', plusMs(recorded[0].metadata.recordedAt, -1)).conflicts).toEqual([]);
  });

  test('X2: the incident amended to before the plan: flagged (IncidentBeforeCoverage)', async () => {
    const ledger = await fulfilled();
    await ledger.run(correct(lastEvent(ledger, 'ClaimOpened'), 'amend', { incidentAt: '2024-03-01T10:00:00-08:00' }));
    const view = ledger.entitlements('B', '2024-06-02');
    expect(view.conflicts.map((c) => c.rule)).toEqual(['X2']);
    expect(view.conflicts[0].detail).toContain('IncidentBeforeCoverage');
    expect(view.inheritedFrom).toEqual(['A']);
  });

  test('X2: voiding the approval of a fulfilled claim flags it; the issued replacement stays counted as used', async () => {
    const ledger = await fulfilled();
    const { recorded } = await ledger.run(correct(lastEvent(ledger, 'ClaimApproved'), 'void', null, 'approved by the wrong agent'));
    const view = ledger.entitlements('B', '2024-06-02');
    expect(view.conflicts).toEqual([
      {
        rule: 'X2',
        eventIds: [lastEvent(ledger, 'ClaimOpened').eventId, lastEvent(ledger, 'ClaimFulfilled').eventId, recorded[0].eventId],
        detail: expect.stringContaining('not approved'),
      },
    ]);
    expect(view.replacement).toMatchObject({ remaining: 1, used: 1 });
    expect(view.safeUseReward.status).toBe('forfeited');
  });

  test('X2: an approval amended to after the fulfilment: views in between flag the claim instead of failing', async () => {
    const ledger = await fulfilled();
    await ledger.run(correct(lastEvent(ledger, 'ClaimApproved'), 'amend', { at: '2024-06-20T10:00:00-07:00' }));
    const between = ledger.entitlements('B', '2024-06-10');
    expect(between.conflicts.map((c) => c.rule)).toEqual(['X2']);
    expect(between.replacement).toMatchObject({ remaining: 1, used: 1 });
    expect(ledger.entitlements('B', '2024-06-21').conflicts).toEqual([]);
  });

  test('X2: replacements issued the very instant their claims were opened (A to B to C) are not conflicts', async () => {
    const ledger = await fulfilled();
    await replaceUnit(ledger, { serial: 'B', claimId: 'C2', at: '2024-06-01T10:00:00-07:00', next: 'C' });
    expect(ledger.entitlements('C', '2024-06-02')).toMatchObject({ conflicts: [], inheritedFrom: ['A', 'B'], replacement: { remaining: 0, used: 2 } });
  });

  test('X2: a correction that keeps the replacement eligible flags nothing', async () => {
    const ledger = await fulfilled();
    await ledger.run(correct(lastEvent(ledger, 'ClaimOpened'), 'amend', { cause: 'water' }));
    expect(ledger.entitlements('B', '2024-06-02').conflicts).toEqual([]);
  });

  test('X2/W4: a reward granted before a late-reported first-term replacement is flagged, not revoked silently', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await ledger.run(sweep('P1', ['safe-use-reward']));
    expect(ledger.entitlements('A', '2025-06-01').safeUseReward.status).toBe('granted');
    await replaceUnit(ledger, { serial: 'A', claimId: 'C1', at: '2025-03-01T10:00:00-08:00', next: 'B' });
    const view = ledger.entitlements('B', '2025-06-01');
    expect(view.safeUseReward.status).toBe('forfeited');
    expect(view.conflicts).toEqual([expect.objectContaining({ rule: 'W4', eventIds: [lastEvent(ledger, 'WarrantyExtensionGranted').eventId] })]);
  });

  test('X2: the corrected fact is used for new decisions (on the same plan), while the fulfilment stands', async () => {
    const ledger = await fulfilled();
    await ledger.run(correct(lastEvent(ledger, 'ClaimOpened'), 'amend', { cause: 'theft' }));
    await on(ledger).when(claim({ claimId: 'C2', serial: 'B', incidentAt: '2024-07-01T10:00:00-07:00' })).then([{ type: 'ClaimOpened' }]);
    expect(ledger.entitlements('A', '2024-07-01').coverage).toBe('transferred');
  });
});
