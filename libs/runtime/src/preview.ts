/**
 * Correction preview (API.md v1.1 "Disputes"): what a correction (RULES X1) would do, without
 * doing it. The correction is decided by the real domain on the streams the ledger would read, so
 * it meets the same refusals; then, with it added to the log as the ledger would record it (an
 * envelope with the next position and recordedAt = now: application code, the domain sees an
 * ordinary recorded event), this answers:
 *
 * - units: every unit of the corrected event's chain (a plan's units; or the device, its plans and
 *   their units), its entitlement view now (at = knownAt = now) before and after, field by field;
 * - decisions: every accepted decision on those units' streams re-decided by the domain at its own
 *   place in the log: the facts recorded before it, as corrected (every correction known, and the
 *   new one), decided at `now`. A decision the facts as they stand accept and the corrected facts
 *   refuse is "would-refuse", with the refusing code and rule; a step of a claim's workflow that
 *   rests on a refused one (an approval on its opening, a payment on its approval, a fulfilment on
 *   its payment) is refused with it. Deterministic: the same log, correction and `now` give the
 *   same answer;
 * - conflicts: the X2 conflicts (and W4's) the corrected views show that the current ones do not.
 *
 * Nothing is appended and nothing enters the decision log: this reads the store and folds.
 */
import {
  Catalogue, chainSerials, Command, ConflictView, CorrectEvent, decide, DEVICE_STREAM_PREFIX, EntitlementView, foldEntitlements, gather,
  gatherUnit, InvalidCommand, NotFound, PLAN_STREAM_PREFIX, RecordedEvent, Refusal, StateConflict, toFacts, unitStreams, World,
} from '@careledger/domain';
import { canonicalJson } from '@careledger/event-store';

export interface PreviewChange {
  /** A dotted path of the view, as in its explanation (e.g. replacement.remaining). */
  field: string;
  before: unknown;
  after: unknown;
}

export interface PreviewUnit {
  serial: string;
  changes: PreviewChange[];
}

export interface PreviewDecision {
  /** The decision's primary event. */
  eventId: string;
  type: string;
  command: string;
  recordedAt: string;
  outcome: 'unchanged' | 'would-refuse';
  /** The refusing code (a RULES.md code, or a state code such as InvalidClaimState); null when accepted. */
  code: string | null;
  rule: string | null;
  detail: string | null;
  /** The decision whose refusal this one inherits (the claim step it rests on). */
  restsOn: string | null;
}

export interface CorrectionPreview {
  /** The correction as the ledger would record it now. */
  correction: {
    eventId: string;
    streamId: string;
    revision: number;
    position: string;
    recordedAt: string;
    targetEventId: string;
    targetType: string;
    action: 'void' | 'amend';
  };
  units: PreviewUnit[];
  decisions: PreviewDecision[];
  conflicts: ConflictView[];
}

export interface PreviewSource {
  store: { readStream(streamId: string): Promise<RecordedEvent[]>; headPosition(): Promise<bigint> };
  catalogue: Catalogue;
}

export interface PreviewContext {
  now: Date;
  /** The id the correction would get (the ledger's decision id: keyed by an Idempotency-Key, or fresh). */
  correctionId: string;
  actor: string;
  correlationId: string;
}

type Reader = (streamId: string) => Promise<RecordedEvent[]>;

/** Commands whose decisions are settled elsewhere or never refused by a correction's facts. */
const NOT_REDECIDED = new Set(['CorrectEvent', 'GrantDueExtensions', 'RegisterServiceCenter']);

/** The command of a primary event recorded without decision metadata (data written before decisions were facts). */
const COMMAND_OF_TYPE: Record<string, string> = {
  DeviceActivated: 'ActivateDevice', DevicePaired: 'ChangePairing', DeviceUnpaired: 'ChangePairing', VerificationPassed: 'RecordVerification',
  PlanPurchased: 'PurchasePlan', PlanBound: 'BindPlan', PlanRenewed: 'RenewPlan', CarePlusPurchased: 'PurchaseCarePlus',
  ClaimOpened: 'OpenClaim', ClaimApproved: 'ApproveClaim', ClaimDenied: 'DenyClaim', ClaimCancelled: 'CancelClaim', ClaimPaid: 'PayClaim',
  ClaimFulfilled: 'FulfilClaim', ServiceRecorded: 'RecordService',
};

/** The claim step a step rests on: an approval on the opening, a payment on the approval, a fulfilment on the payment. */
const RESTS_ON: Record<string, string> = { ApproveClaim: 'OpenClaim', PayClaim: 'ApproveClaim', FulfilClaim: 'PayClaim' };
const STEP_WORDS: Record<string, string> = { OpenClaim: 'opening of the claim', ApproveClaim: 'claim\'s approval', PayClaim: 'claim\'s payment' };

export async function previewCorrection(source: PreviewSource, command: CorrectEvent, ctx: PreviewContext): Promise<CorrectionPreview> {
  const { store, catalogue } = source;
  const nowMs = ctx.now.getTime();
  const nowIso = ctx.now.toISOString();
  const cache = new Map<string, Promise<RecordedEvent[]>>();
  const readNow: Reader = (s) => {
    let events = cache.get(s);
    if (!events) {
      events = store.readStream(s);
      cache.set(s, events);
    }
    return events;
  };

  // the correction decided exactly as the ledger would (same streams, same refusals: they throw)
  const gathered = await gather(catalogue, command, readNow);
  const decision = decide(gathered.world, command, { now: nowMs });
  const appended = decision.appends[decision.primary[0]].events[decision.primary[1]];
  const head = await store.headPosition();
  const envelope: RecordedEvent = {
    eventId: ctx.correctionId,
    type: appended.type,
    streamId: command.streamId,
    revision: (gathered.revisions.get(command.streamId) ?? -1) + 1,
    position: head + 1n,
    data: appended.data,
    metadata: { occurredAt: nowIso, recordedAt: nowIso, actor: ctx.actor, correlationId: ctx.correlationId, causationId: null, decision: { id: ctx.correctionId, command: 'CorrectEvent' } },
  };
  const readAfter: Reader = async (s) => (s === command.streamId ? [...(await readNow(s)), envelope] : readNow(s));

  // the units it touches: the corrected stream's chain, before and after the correction
  const serials: string[] = [];
  const addSerial = (serial: string) => {
    if (!serials.includes(serial)) serials.push(serial);
  };
  for (const read of [readNow, readAfter]) {
    if (command.streamId.startsWith(PLAN_STREAM_PREFIX)) {
      const planId = command.streamId.slice(PLAN_STREAM_PREFIX.length);
      const plan = new World(catalogue, toFacts(await read(command.streamId)).facts).plan(planId);
      if (plan.status === 'purchased') chainSerials(plan).forEach(addSerial);
    } else if (command.streamId.startsWith(DEVICE_STREAM_PREFIX)) {
      const serial = command.streamId.slice(DEVICE_STREAM_PREFIX.length);
      addSerial(serial);
      const unit = await gatherUnit(catalogue, serial, read);
      for (const s of unitStreams(unit.world, serial)) if (s.startsWith(DEVICE_STREAM_PREFIX)) addSerial(s.slice(DEVICE_STREAM_PREFIX.length));
    }
    // a service center's facts change no unit's entitlements: a claim keeps the service region it was opened with
  }

  const query = { at: nowIso, knownAt: nowIso, now: nowIso };
  const units: PreviewUnit[] = [];
  const conflicts: ConflictView[] = [];
  const seenConflicts = new Set<string>();
  const streams = new Set<string>([command.streamId]);
  for (const serial of serials) {
    const before = await gatherUnit(catalogue, serial, readNow);
    const after = await gatherUnit(catalogue, serial, readAfter);
    for (const s of [...before.revisions.keys(), ...after.revisions.keys()]) streams.add(s);
    if (before.events.length === 0 && after.events.length === 0) continue;
    const viewBefore = foldEntitlements(catalogue, before.events, { serial, ...query });
    const viewAfter = foldEntitlements(catalogue, after.events, { serial, ...query });
    units.push({ serial, changes: diffViews(viewBefore, viewAfter) });
    const known = new Set(viewBefore.conflicts.map((c) => canonicalJson(c)));
    for (const c of viewAfter.conflicts) {
      const key = canonicalJson(c);
      if (known.has(key) || seenConflicts.has(key)) continue;
      seenConflicts.add(key);
      conflicts.push(c);
    }
  }

  const decisions = await redecideAll(catalogue, [...streams], readNow, readAfter, envelope, nowMs);
  return {
    correction: {
      eventId: envelope.eventId,
      streamId: envelope.streamId,
      revision: envelope.revision,
      position: envelope.position.toString(),
      recordedAt: nowIso,
      targetEventId: command.eventId,
      targetType: (appended.data as { targetType: string }).targetType,
      action: command.action,
    },
    units,
    decisions,
    conflicts,
  };
}

// ------------------------------------------------------------------------------ view changes

const SKIPPED = new Set(['at', 'knownAt', 'checkpoint', 'explanation']);

/** A window `{ from, until }` or money `{ amount, currency }` is one value, compared whole. */
function isValue(v: object): boolean {
  const keys = Object.keys(v).sort().join(',');
  return keys === 'from,until' || keys === 'amount,currency';
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v) && !isValue(v);

/** The fields that differ, as dotted paths in the view's order (arrays, windows and money compared whole). */
export function diffViews(before: EntitlementView, after: EntitlementView): PreviewChange[] {
  const out: PreviewChange[] = [];
  const walk = (a: unknown, b: unknown, path: string) => {
    if (isRecord(a) && isRecord(b)) {
      for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])]) {
        if (!path && SKIPPED.has(key)) continue;
        walk(a[key], b[key], path ? `${path}.${key}` : key);
      }
    } else if (canonicalJson(a ?? null) !== canonicalJson(b ?? null)) {
      out.push({ field: path, before: a ?? null, after: b ?? null });
    }
  };
  walk(before, after, '');
  return out;
}

// ------------------------------------------------------------------------------- decisions

interface Candidate {
  event: RecordedEvent;
  command: string;
  /** The first position of the decision's events: the log before it is what it was decided on. */
  start: bigint;
}

type Result =
  | { kind: 'accepted' }
  | { kind: 'voided' }
  /** `reason`: the refusal's own words (an inherited refusal keeps the root's). */
  | { kind: 'refused'; code: string; rule: string | null; detail: string; reason: string; restsOn: string | null };

async function redecideAll(
  catalogue: Catalogue,
  streams: string[],
  readNow: Reader,
  readAfter: Reader,
  envelope: RecordedEvent,
  nowMs: number,
): Promise<PreviewDecision[]> {
  const all = new Map<string, RecordedEvent>();
  for (const s of streams) for (const e of await readNow(s)) all.set(e.eventId, e);
  const decisionOf = (e: RecordedEvent) => e.metadata.decision ?? null;
  const starts = new Map<string, bigint>();
  for (const e of all.values()) {
    const id = (decisionOf(e)?.id as string | undefined) ?? e.eventId;
    const start = starts.get(id);
    if (start === undefined || e.position < start) starts.set(id, e.position);
  }
  const candidates: Candidate[] = [];
  for (const e of all.values()) {
    const meta = decisionOf(e);
    const command = typeof meta?.command === 'string' ? meta.command : meta ? null : (COMMAND_OF_TYPE[e.type] ?? null);
    if (!command || NOT_REDECIDED.has(command)) continue;
    candidates.push({ event: e, command, start: starts.get((meta?.id as string | undefined) ?? e.eventId) ?? e.position });
  }
  candidates.sort((a, b) => (a.event.position < b.event.position ? -1 : 1));

  const stage = async (read: Reader) => {
    const results = new Map<string, Result>();
    // claimId -> command -> the primary event id of that step
    const steps = new Map<string, Map<string, string>>();
    for (const c of candidates) {
      let result = await redecide(catalogue, c, read, nowMs);
      const claimId = claimOf(c.event);
      if (claimId) {
        const own = steps.get(claimId) ?? new Map<string, string>();
        steps.set(claimId, own);
        const restsOn = RESTS_ON[c.command] ? own.get(RESTS_ON[c.command]) : undefined;
        const base = restsOn ? results.get(restsOn) : undefined;
        if (result.kind === 'accepted' && base?.kind === 'refused') {
          result = { kind: 'refused', code: base.code, rule: base.rule, detail: `It rests on the ${STEP_WORDS[RESTS_ON[c.command]]}, which would be refused: ${base.reason}`, reason: base.reason, restsOn: restsOn ?? null };
        }
        own.set(c.command, c.event.eventId);
      }
      results.set(c.event.eventId, result);
    }
    return results;
  };
  const before = await stage(readNow);
  const after = await stage(readAfter);
  const out: PreviewDecision[] = [];
  for (const c of candidates) {
    const b = before.get(c.event.eventId)!;
    const a = after.get(c.event.eventId)!;
    // undone before this correction, or the very fact it voids: no decision to turn
    if (b.kind === 'voided' || a.kind === 'voided' || c.event.eventId === envelope.eventId) continue;
    const refused = a.kind === 'refused' ? a : null;
    out.push({
      eventId: c.event.eventId,
      type: c.event.type,
      command: c.command,
      recordedAt: c.event.metadata.recordedAt,
      outcome: refused && b.kind !== 'refused' ? 'would-refuse' : 'unchanged',
      code: refused?.code ?? null,
      rule: refused?.rule ?? null,
      detail: refused?.detail ?? null,
      restsOn: refused?.restsOn ?? null,
    });
  }
  return out;
}

function claimOf(e: RecordedEvent): string | null {
  const id = (e.data as { claimId?: unknown } | null)?.claimId;
  return e.type.startsWith('Claim') && typeof id === 'string' ? id : null;
}

/** Decides the decision's command again on the log before it, with every known correction applied. */
async function redecide(catalogue: Catalogue, c: Candidate, read: Reader, nowMs: number): Promise<Result> {
  // the primary fact as corrected in this version of the log (a voided one is no decision any more)
  const primary = toFacts(await read(c.event.streamId)).facts.find((f) => f.eventId === c.event.eventId);
  if (!primary) return { kind: 'voided' };
  const command = commandOf(c.command, c.event.streamId, primary.event.type, primary.event.data as Record<string, unknown>);
  if (!command) return { kind: 'accepted' };
  const before: Reader = async (s) => (await read(s)).filter((e) => e.position < c.start || e.type === 'EventCorrected');
  const gathered = await gather(catalogue, command, before);
  try {
    decide(gathered.world, command, { now: nowMs });
    return { kind: 'accepted' };
  } catch (error) {
    const refused = (code: string, rule: string | null, detail: string): Result => ({ kind: 'refused', code, rule, detail, reason: detail, restsOn: null });
    if (error instanceof Refusal) return refused(error.code, error.rule, error.message);
    if (error instanceof StateConflict || error instanceof NotFound) return refused(error.code, null, error.message);
    if (error instanceof InvalidCommand) return refused('ValidationFailed', null, `${error.message} ${error.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
    throw error;
  }
}

/** The command a primary fact records, from its data (as corrected). */
function commandOf(command: string, streamId: string, type: string, d: Record<string, unknown>): Command | null {
  const planId = streamId.startsWith(PLAN_STREAM_PREFIX) ? streamId.slice(PLAN_STREAM_PREFIX.length) : '';
  const s = (key: string) => d[key] as string;
  switch (command) {
    case 'ActivateDevice':
      return { type: 'ActivateDevice', serial: s('serial'), model: s('model'), region: s('region') as never, activatedAt: s('activatedAt') };
    case 'ChangePairing':
      return { type: 'ChangePairing', serial: s('serial'), kind: d.kind as never, ref: s('ref'), action: type === 'DeviceUnpaired' ? 'unbind' : 'bind', at: s('at') };
    case 'RecordVerification':
      return { type: 'RecordVerification', serial: s('serial'), method: d.method as never, notifiedAt: s('notifiedAt') };
    case 'PurchasePlan':
      return {
        type: 'PurchasePlan', planId: s('planId'), term: s('term'), model: s('model'), region: s('region') as never, channel: d.channel as never,
        purchasedAt: s('purchasedAt'), orderId: s('orderId'), serial: (d.serial as string | null) ?? null, deliveredAt: (d.deliveredAt as string | null) ?? null,
        price: (d.price as never) ?? null,
      };
    case 'BindPlan':
      return { type: 'BindPlan', planId: s('planId'), serial: s('serial'), boundAt: s('boundAt') };
    case 'RenewPlan':
      return { type: 'RenewPlan', planId: s('planId'), purchasedAt: s('purchasedAt'), orderId: s('orderId'), term: s('term') ?? '1y', price: (d.price as never) ?? null };
    case 'PurchaseCarePlus':
      return { type: 'PurchaseCarePlus', planId: s('planId'), purchasedAt: s('purchasedAt'), orderId: s('orderId'), price: (d.price as never) ?? null };
    case 'OpenClaim':
      return {
        type: 'OpenClaim', claimId: s('claimId'), claimRef: s('claimRef'), serial: s('serial'), kind: d.kind as never, cause: d.cause as never,
        incidentAt: s('incidentAt'), openedAt: s('openedAt'), serviceCenterId: s('serviceCenterId'), express: d.express === true,
        flightRecordsSynced: d.flightRecordsSynced === true,
      };
    case 'ApproveClaim':
      return { type: 'ApproveClaim', planId, claimId: s('claimId'), at: s('at') };
    case 'DenyClaim':
      return { type: 'DenyClaim', planId, claimId: s('claimId'), at: s('at'), reason: s('reason') };
    case 'CancelClaim':
      return { type: 'CancelClaim', planId, claimId: s('claimId'), at: s('at'), reason: s('reason') };
    case 'PayClaim':
      return { type: 'PayClaim', planId, claimId: s('claimId'), at: s('at'), amount: s('amount'), currency: s('currency') };
    case 'FulfilClaim':
      return { type: 'FulfilClaim', planId, claimId: s('claimId'), at: s('at'), replacementSerial: s('replacementSerial') };
    case 'RecordService':
      return { type: 'RecordService', serial: s('serial'), kind: d.kind as never, at: s('at'), serviceCenterId: s('serviceCenterId') };
    case 'GrantGoodwill':
      return { type: 'GrantGoodwill', serial: s('serial'), months: d.months as number, reason: s('reason'), at: s('at') };
    default:
      return null;
  }
}
