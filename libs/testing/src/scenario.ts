/**
 * Command builders for domain specs, with plausible defaults (a US Mavic 3 bought online as unit
 * 'A' on plan 'P1'), and small helpers to run a whole replacement or to read a refusal.
 * Every builder returns a plain Command: the spec reads as the history it tells.
 */
import type { Cause, ClaimKind, Command, ExtensionKind, Money, PairingKind, Region, ServiceKind, VerificationMethod } from '@careledger/domain';
import { MemoryLedger, Recorded } from './memory-ledger';

type Of<T extends Command['type']> = Extract<Command, { type: T }>;

export const money = (amount: string, currency: string): Money => ({ amount, currency });
export const usd = (amount: string): Money => money(amount, 'USD');

/** An ISO instant `ms` milliseconds after (or before) another, in UTC. */
export function plusMs(instant: string, ms: number): string {
  return new Date(Date.parse(instant) + ms).toISOString();
}

export const HOURS = 3_600_000;
export const DAYS = 24 * HOURS;

export function activate(serial: string, activatedAt: string, model = 'Mavic 3', region: Region = 'US'): Of<'ActivateDevice'> {
  return { type: 'ActivateDevice', serial, model, region, activatedAt };
}

export function pair(serial: string, kind: PairingKind, action: 'bind' | 'unbind', at: string, ref = `${kind}-1`): Of<'ChangePairing'> {
  return { type: 'ChangePairing', serial, kind, ref, action, at };
}

export function verify(serial: string, notifiedAt: string, method: VerificationMethod = 'video'): Of<'RecordVerification'> {
  return { type: 'RecordVerification', serial, method, notifiedAt };
}

export function purchase(over: Partial<Of<'PurchasePlan'>> = {}): Of<'PurchasePlan'> {
  const planId = over.planId ?? 'P1';
  return {
    type: 'PurchasePlan',
    planId,
    term: '1y',
    model: 'Mavic 3',
    region: 'US',
    channel: 'online',
    purchasedAt: '2024-03-10T10:00:00-07:00',
    orderId: `O-${planId}`,
    serial: 'A',
    deliveredAt: null,
    price: null,
    ...over,
  };
}

export function bindPlan(planId: string, serial: string, boundAt: string): Of<'BindPlan'> {
  return { type: 'BindPlan', planId, serial, boundAt };
}

export function renew(planId: string, purchasedAt: string, over: Partial<Of<'RenewPlan'>> = {}): Of<'RenewPlan'> {
  return { type: 'RenewPlan', planId, purchasedAt, orderId: `R-${planId}-${purchasedAt}`, term: '1y', price: null, ...over };
}

export function carePlus(planId: string, purchasedAt: string, over: Partial<Of<'PurchaseCarePlus'>> = {}): Of<'PurchaseCarePlus'> {
  return { type: 'PurchaseCarePlus', planId, purchasedAt, orderId: `CP-${planId}-${purchasedAt}`, price: null, ...over };
}

export function claim(over: Partial<Of<'OpenClaim'>> & { incidentAt: string }): Of<'OpenClaim'> {
  const claimId = over.claimId ?? 'C1';
  return {
    type: 'OpenClaim',
    claimId,
    claimRef: claimId,
    serial: 'A',
    kind: 'damage' as ClaimKind,
    cause: 'collision' as Cause,
    openedAt: over.incidentAt,
    serviceCenterId: 'SC-X',
    express: false,
    flightRecordsSynced: false,
    ...over,
  };
}

export function approve(planId: string, claimId: string, at: string): Of<'ApproveClaim'> {
  return { type: 'ApproveClaim', planId, claimId, at };
}

export function deny(planId: string, claimId: string, at: string, reason = 'not eligible'): Of<'DenyClaim'> {
  return { type: 'DenyClaim', planId, claimId, at, reason };
}

export function cancel(planId: string, claimId: string, at: string, reason = 'customer withdrew'): Of<'CancelClaim'> {
  return { type: 'CancelClaim', planId, claimId, at, reason };
}

export function pay(planId: string, claimId: string, at: string, fee: Money): Of<'PayClaim'> {
  return { type: 'PayClaim', planId, claimId, at, amount: fee.amount, currency: fee.currency };
}

export function fulfil(planId: string, claimId: string, at: string, replacementSerial: string): Of<'FulfilClaim'> {
  return { type: 'FulfilClaim', planId, claimId, at, replacementSerial };
}

export function service(serial: string, kind: ServiceKind, at: string, serviceCenterId = 'SC-X'): Of<'RecordService'> {
  return { type: 'RecordService', serial, kind, at, serviceCenterId };
}

export function registerCenter(centerId: string, region: Region, at = '2020-01-01T00:00:00Z'): Of<'RegisterServiceCenter'> {
  return { type: 'RegisterServiceCenter', centerId, name: `Center ${centerId}`, region, at };
}

export function goodwill(serial: string, months: number, at: string, reason = 'agent goodwill'): Of<'GrantGoodwill'> {
  return { type: 'GrantGoodwill', serial, months, reason, at };
}

export function sweep(planId: string, kinds: ExtensionKind[] = ['plan-year-2', 'safe-use-reward']): Of<'GrantDueExtensions'> {
  return { type: 'GrantDueExtensions', planId, kinds };
}

export function correct(
  target: Pick<Recorded, 'eventId' | 'streamId'>,
  action: 'void' | 'amend',
  amendment: Record<string, unknown> | null = null,
  reason = 'data-entry mistake',
): Of<'CorrectEvent'> {
  return { type: 'CorrectEvent', eventId: target.eventId, streamId: target.streamId, action, reason, amendment };
}

/** The last recorded event of a type (optionally matching a predicate on its data). */
export function lastEvent(ledger: MemoryLedger, type: string, where: (data: Record<string, unknown>) => boolean = () => true): Recorded {
  const found = ledger.events.filter((e) => e.type === type && where(e.data as Record<string, unknown>)).pop();
  if (!found) throw new Error(`no ${type} event recorded`);
  return found;
}

/** Opens, approves, pays and fulfils a claim (all at `at` unless told otherwise); returns the fee. */
export async function replaceUnit(
  ledger: MemoryLedger,
  o: { planId?: string; serial: string; claimId: string; at: string; next: string; kind?: ClaimKind; express?: boolean; serviceCenterId?: string },
): Promise<Money> {
  const planId = o.planId ?? 'P1';
  const kind = o.kind ?? 'damage';
  await ledger.run(
    claim({
      claimId: o.claimId, serial: o.serial, kind, cause: kind === 'flyaway' ? 'flyaway' : 'collision', incidentAt: o.at,
      express: o.express ?? false, flightRecordsSynced: kind === 'flyaway', serviceCenterId: o.serviceCenterId ?? 'SC-X',
    }),
  );
  const { decision } = await ledger.run(approve(planId, o.claimId, o.at));
  const fee = (decision.outcome as { fee: Money }).fee;
  await ledger.run(pay(planId, o.claimId, o.at, fee));
  await ledger.run(fulfil(planId, o.claimId, o.at, o.next));
  return fee;
}

/** Runs a command expected to be refused and returns the error (code, rule, message). */
export async function refusalOf(ledger: MemoryLedger, command: Command): Promise<{ code: string; rule?: string; name: string }> {
  try {
    const decision = await ledger.decide(command);
    throw new Error(`expected a refusal, but ${command.type} was accepted: ${JSON.stringify(decision.appends)}`);
  } catch (error) {
    const e = error as { code?: string; rule?: string; name: string; message: string };
    if (e.message.startsWith('expected a refusal')) throw error;
    return { code: e.code ?? e.name, rule: e.rule, name: e.name };
  }
}
