/**
 * Business time (RULES T1-T3). Instants arrive as ISO-8601 strings with an offset and are compared
 * as epoch milliseconds; calendar dates are 'YYYY-MM-DD' in a plan region's reference zone.
 * Calendar arithmetic is Luxon's (month-end clamped: 2024-02-29 + 12 months = 2025-02-28).
 */
import { DateTime } from 'luxon';

export type IsoDate = string;
export type IsoInstant = string;

const INSTANT_RE =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** True for an ISO-8601 instant with an explicit offset (Z or ±hh:mm) that names a real moment. */
export function isInstant(value: unknown): value is IsoInstant {
  if (typeof value !== 'string' || !INSTANT_RE.test(value)) return false;
  return DateTime.fromISO(value, { setZone: true }).isValid;
}

/** True for a real calendar date 'YYYY-MM-DD'. */
export function isDate(value: unknown): value is IsoDate {
  if (typeof value !== 'string' || !DATE_RE.test(value)) return false;
  return DateTime.fromISO(value, { zone: 'UTC' }).isValid;
}

export function instantMs(value: IsoInstant): number {
  const dt = DateTime.fromISO(value, { setZone: true });
  if (!dt.isValid || !INSTANT_RE.test(value)) throw new RangeError(`not an instant with offset: ${value}`);
  return dt.toMillis();
}

export function toUtcIso(ms: number): IsoInstant {
  return new Date(ms).toISOString();
}

/** The calendar date of an instant in a zone. */
export function dateInZone(ms: number, zone: string): IsoDate {
  return DateTime.fromMillis(ms, { zone }).toISODate()!;
}

/** 0:00 of a date in a zone (T1). On a day whose midnight does not exist, the first instant of the day. */
export function startOfDay(date: IsoDate, zone: string): number {
  const dt = DateTime.fromISO(date, { zone }).startOf('day');
  if (!dt.isValid) throw new RangeError(`invalid date or zone: ${date} ${zone}`);
  return dt.toMillis();
}

/** The same instant rendered in a zone with its offset, e.g. 2025-03-25T00:00:00.000-07:00. */
export function instantInZone(ms: number, zone: string): IsoInstant {
  return DateTime.fromMillis(ms, { zone }).toISO()!;
}

export function addMonths(date: IsoDate, months: number): IsoDate {
  return DateTime.fromISO(date, { zone: 'UTC' }).plus({ months }).toISODate()!;
}

export function addDays(date: IsoDate, days: number): IsoDate {
  return DateTime.fromISO(date, { zone: 'UTC' }).plus({ days }).toISODate()!;
}

/** Whole calendar months from a to b (b after a), as Luxon counts them. */
export function monthsBetween(a: IsoDate, b: IsoDate): number {
  return Math.round(DateTime.fromISO(b, { zone: 'UTC' }).diff(DateTime.fromISO(a, { zone: 'UTC' }), 'months').months);
}

/** A half-open window of dates [from, until) with its instants in a zone. */
export interface Window {
  from: IsoDate;
  until: IsoDate;
}

export interface ZonedWindow extends Window {
  fromMs: number;
  untilMs: number;
}

export function zoned(window: Window, zone: string): ZonedWindow {
  return { ...window, fromMs: startOfDay(window.from, zone), untilMs: startOfDay(window.until, zone) };
}

export function contains(window: { fromMs: number; untilMs: number }, ms: number): boolean {
  return ms >= window.fromMs && ms < window.untilMs;
}

/**
 * Parses the `at` of an entitlement query: an instant with offset, or a date meaning 0:00 of that
 * day in the given zone.
 */
export function businessPoint(value: string, zone: string): number {
  if (isInstant(value)) return instantMs(value);
  if (isDate(value)) return startOfDay(value, zone);
  throw new RangeError(`not an instant or date: ${value}`);
}

export function maxDate(a: IsoDate, b: IsoDate): IsoDate {
  return a >= b ? a : b;
}

export function minDate(a: IsoDate, b: IsoDate): IsoDate {
  return a <= b ? a : b;
}
