/**
 * What a service center may read of the claims of other centers (issue 14 item 10), one rule for
 * every route that shows a unit's or a plan's claims:
 *
 * A center at the desk sees a unit's past claims wherever they were handled: their ids, kind,
 * cause, status, dates, fee, replacement and which center handled them (what decides what it can
 * do for the customer in front of it: quota used, a replacement issued, a claim in progress
 * elsewhere). It does not see another center's internal business: its own reference for the claim
 * (`claimRef`), the free-text reasons of its denials and cancellations (and of corrections of its
 * claims' events), and who at that center did it (`actor` reads `service-center:<id>`). An entry
 * reduced so lists what was removed in `redacted`.
 *
 * Applied here to history, timeline, entitlements (conflict details name a claim by its id) and
 * the plan; `GET /v1/claims/{id}`, dashboards and claim queues stay the own center's (403), and
 * the audit routes are the auditor's. Admin, auditor, sales and device-registry see everything.
 */
import type { Principal } from '../auth/tokens';

/** The center a service-center caller acts for; null for every other role (they see everything). */
export function viewerCenter(principal: Principal): string | null {
  return principal.role.kind === 'service-center' ? principal.role.centerId : null;
}

export interface ClaimOwner {
  claimRef: string;
  centerId: string;
}

interface EventLike {
  eventId: string;
  type: string;
  actor: string;
  data: unknown;
}

const INTERNAL_FIELDS = ['claimRef', 'reason'] as const;

/** The claims named in a unit's events: claimId → its reference and center (from ClaimOpened). */
export function claimOwners(events: EventLike[]): Map<string, ClaimOwner> {
  const owners = new Map<string, ClaimOwner>();
  for (const e of events) {
    if (e.type !== 'ClaimOpened') continue;
    const d = e.data as { claimId?: unknown; claimRef?: unknown; serviceCenterId?: unknown };
    if (typeof d.claimId === 'string' && typeof d.claimRef === 'string' && typeof d.serviceCenterId === 'string') {
      owners.set(d.claimId, { claimRef: d.claimRef, centerId: d.serviceCenterId });
    }
  }
  return owners;
}

/** History entries as `center` may read them (see the rule above). */
export function redactHistory<E extends EventLike>(events: E[], center: string | null): (E & { redacted?: string[] })[] {
  if (center === null) return events;
  const owners = claimOwners(events);
  const centerOfEvent = new Map<string, string>();
  for (const e of events) {
    const c = centerOf(e, owners, centerOfEvent);
    if (c !== null) centerOfEvent.set(e.eventId, c);
  }
  return events.map((e) => {
    const owner = centerOfEvent.get(e.eventId);
    if (owner === undefined || owner === center) return e;
    const data = { ...(e.data as Record<string, unknown>) };
    const redacted: string[] = [];
    for (const field of INTERNAL_FIELDS) {
      if (field in data) {
        delete data[field];
        redacted.push(`data.${field}`);
      }
    }
    if (data.amendment !== null && typeof data.amendment === 'object') {
      const amendment = { ...(data.amendment as Record<string, unknown>) };
      for (const field of INTERNAL_FIELDS) {
        if (field in amendment) {
          delete amendment[field];
          redacted.push(`data.amendment.${field}`);
        }
      }
      data.amendment = amendment;
    }
    let actor = e.actor;
    if (e.type !== 'EventCorrected' && actor !== `service-center:${owner}`) {
      actor = `service-center:${owner}`;
      redacted.push('actor');
    }
    return redacted.length === 0 ? e : { ...e, data, actor, redacted };
  });
}

/** The center an event belongs to: its own serviceCenterId, its claim's, or (a correction) its target's. */
function centerOf(e: EventLike, owners: Map<string, ClaimOwner>, known: Map<string, string>): string | null {
  const d = (e.data ?? {}) as { serviceCenterId?: unknown; claimId?: unknown; targetEventId?: unknown };
  if (typeof d.serviceCenterId === 'string') return d.serviceCenterId;
  // claim events, and what a claim caused elsewhere (the replacement unit bound to the plan)
  if (typeof d.claimId === 'string') return owners.get(d.claimId)?.centerId ?? null;
  if (e.type === 'EventCorrected' && typeof d.targetEventId === 'string') return known.get(d.targetEventId) ?? null;
  return null;
}

interface Conflict {
  detail: string;
}

/** Conflict details name another center's claim by its id, not by that center's reference. */
export function redactConflicts<C extends Conflict>(conflicts: C[], owners: Map<string, ClaimOwner>, center: string | null): C[] {
  if (center === null || conflicts.length === 0) return conflicts;
  return conflicts.map((c) => {
    let detail = c.detail;
    for (const [claimId, owner] of owners) {
      if (owner.centerId !== center) detail = detail.split(`Claim ${owner.claimRef} `).join(`Claim ${claimId} `);
    }
    return detail === c.detail ? c : { ...c, detail };
  });
}

/** A plan's claims: another center's reference is null (`redacted` says so). */
export function redactPlanClaims<C extends { claimId: string; claimRef: string; serviceCenterId: string | null }>(
  claims: C[],
  center: string | null,
): (Omit<C, 'claimRef'> & { claimRef: string | null; redacted?: string[] })[] {
  if (center === null) return claims;
  return claims.map((c) => (c.serviceCenterId === center ? c : { ...c, claimRef: null, redacted: ['claimRef'] }));
}
