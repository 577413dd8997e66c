/**
 * X1 amendments: which fields of which facts may be amended, and how each value is checked.
 * Identity fields (serials, plan and claim ids, order ids) are not amendable: a wrong one is voided
 * and the right fact recorded anew, so reservations and indexes never point at a ghost.
 */
import { Catalogue, REGIONS } from '../catalogue/catalogue';
import { InvalidCommand } from '../codes';
import { CAUSES } from '../claim/events';
import { isDate, isInstant } from '../time';

type Check =
  | { kind: 'instant' | 'nullable-instant' | 'date' | 'text' | 'boolean' | 'model' | 'region' | 'money' | 'nullable-money' | 'decimal' | 'currency' }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'int'; min: number; max: number };

const instant: Check = { kind: 'instant' };
const text: Check = { kind: 'text' };
const pairing: Check = { kind: 'enum', values: ['account', 'remote-controller'] };

const AMENDABLE: Record<string, Record<string, Check>> = {
  DeviceActivated: { model: { kind: 'model' }, region: { kind: 'region' }, activatedAt: instant },
  DevicePaired: { kind: pairing, ref: text, at: instant },
  DeviceUnpaired: { kind: pairing, ref: text, at: instant },
  VerificationPassed: { method: { kind: 'enum', values: ['video', 'inspection'] }, notifiedAt: instant },
  PlanPurchased: {
    term: { kind: 'enum', values: ['1y', '2y'] },
    region: { kind: 'region' },
    channel: { kind: 'enum', values: ['bundle', 'online', 'card'] },
    purchasedAt: instant,
    deliveredAt: { kind: 'nullable-instant' },
    price: { kind: 'nullable-money' },
  },
  PlanBound: { boundAt: instant },
  PlanRenewed: { purchasedAt: instant, price: { kind: 'nullable-money' } },
  CarePlusPurchased: { purchasedAt: instant, price: { kind: 'nullable-money' } },
  ClaimOpened: {
    kind: { kind: 'enum', values: ['damage', 'flyaway'] },
    cause: { kind: 'enum', values: CAUSES },
    incidentAt: instant,
    openedAt: instant,
    express: { kind: 'boolean' },
    flightRecordsSynced: { kind: 'boolean' },
  },
  ClaimApproved: { at: instant },
  ClaimDenied: { at: instant, reason: text },
  ClaimCancelled: { at: instant, reason: text },
  ClaimPaid: { at: instant, amount: { kind: 'decimal' }, currency: { kind: 'currency' } },
  ClaimFulfilled: { at: instant },
  ServiceRecorded: { kind: { kind: 'enum', values: ['warranty-repair', 'discounted-repair', 'factory-maintenance'] }, at: instant },
  WarrantyExtensionGranted: { from: { kind: 'date' }, until: { kind: 'date' }, months: { kind: 'int', min: 1, max: 36 }, reason: text, at: instant },
  ServiceCenterRegistered: { name: text, region: { kind: 'region' } },
};

export function amendableFields(type: string): string[] {
  return Object.keys(AMENDABLE[type] ?? {});
}

/** Checks an amendment against the target's type; returns it with canonical values (model names). */
export function validateAmendment(catalogue: Catalogue, type: string, amendment: Record<string, unknown>): Record<string, unknown> {
  const spec = AMENDABLE[type] ?? {};
  const errors: { field: string; message: string }[] = [];
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(amendment)) {
    const check = spec[field];
    const path = `amendment.${field}`;
    if (!check) {
      const allowed = amendableFields(type);
      errors.push({ field: path, message: allowed.length ? `not amendable on ${type} (amendable: ${allowed.join(', ')})` : `${type} has no amendable fields` });
      continue;
    }
    const problem = checkValue(catalogue, check, value);
    if (problem) errors.push({ field: path, message: problem });
    else out[field] = check.kind === 'model' ? catalogue.findModel(value as string)!.name : value;
  }
  if (errors.length > 0) throw new InvalidCommand(errors, 'The amendment has invalid fields.');
  return out;
}

function checkValue(catalogue: Catalogue, check: Check, value: unknown): string | null {
  switch (check.kind) {
    case 'instant':
      return isInstant(value) ? null : 'must be an ISO-8601 instant with an offset';
    case 'nullable-instant':
      return value === null || isInstant(value) ? null : 'must be an ISO-8601 instant with an offset, or null';
    case 'date':
      return isDate(value) ? null : 'must be a date YYYY-MM-DD';
    case 'text':
      return typeof value === 'string' && value.trim().length > 0 && value.length <= 500 ? null : 'must be a non-empty string (at most 500 characters)';
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be a boolean';
    case 'model':
      return typeof value === 'string' && catalogue.findModel(value) ? null : 'must be a model of the catalogue';
    case 'region':
      return typeof value === 'string' && (REGIONS as readonly string[]).includes(value) ? null : `must be one of ${REGIONS.join(', ')}`;
    case 'decimal':
      return isDecimal(value) ? null : 'must be a decimal string such as "159.00"';
    case 'currency':
      return typeof value === 'string' && /^[A-Z]{3}$/.test(value) ? null : 'must be an ISO 4217 code';
    case 'money':
    case 'nullable-money': {
      if (value === null && check.kind === 'nullable-money') return null;
      const m = value as { amount?: unknown; currency?: unknown } | null;
      return m && typeof m === 'object' && isDecimal(m.amount) && typeof m.currency === 'string' && /^[A-Z]{3}$/.test(m.currency) && Object.keys(m).length === 2
        ? null
        : 'must be { amount: decimal string, currency: ISO 4217 code }';
    }
    case 'enum':
      return typeof value === 'string' && check.values.includes(value) ? null : `must be one of ${check.values.join(', ')}`;
    case 'int':
      return Number.isInteger(value) && (value as number) >= check.min && (value as number) <= check.max ? null : `must be an integer from ${check.min} to ${check.max}`;
  }
}

export function isDecimal(value: unknown): value is string {
  return typeof value === 'string' && /^\d{1,12}(\.\d{1,4})?$/.test(value);
}
