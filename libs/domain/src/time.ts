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

/**
 * The functions below are pure, and folds call them with the same few instants and dates over and
 * over (every read re-derives the chain's windows): Luxon's parsing and zone offsets dominated CPU
 * profiles, so their results are memoised. A memo is dropped whole when it grows past its bound.
 */
const MEMO_LIMIT = 100_000;
function memo<V>(compute: (key: string) => V): (key: string) => V {
  let cache = new Map<string, V>();
  return (key) => {
    let value = cache.get(key);
    if (value === undefined) {
      value = compute(key);
      if (cache.size >= MEMO_LIMIT) cache = new Map();
      cache.set(key, value);
    }
    return value;
  };
}

/**
 * What the ledger accepts as an instant, for every new command, query and amendment: RFC 3339
 * with an explicit offset, read the same way by every parser the node and its clients use:
 * - a four-digit year from 1000 (RFC 3339 writes four digits; below 1000 no protection-plan fact
 *   can be, and years 0-99 are where `Date.UTC` silently reads 0001 as 1901);
 * - hours 00-23 (no T24:00), seconds 00-59, at most 3 fraction digits: the ledger keeps
 *   milliseconds, and a finer instant would be compared as another one than the client meant;
 * - an offset within ±14:00 (minutes 00-59): the span of the UTC offsets civil time uses
 *   (-12:00 to +14:00, Line Islands); RFC 3339's syntax allows up to ±23:59, which no place has.
 */
const STRICT_INSTANT_RE =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(?:Z|([+-])(\d{2}):(\d{2}))$/;
export const MIN_INSTANT_YEAR = 1000;
export const MAX_OFFSET_MINUTES = 14 * 60;

/** True for an instant the ledger accepts (see STRICT_INSTANT_RE); `instantMs` reads it to the same millisecond. */
export function isInstant(value: unknown): value is IsoInstant {
  if (typeof value !== 'string') return false;
  const m = STRICT_INSTANT_RE.exec(value);
  if (!m) return false;
  const [y, mo, d, h, mi] = [+m[1], +m[2], +m[3], +m[4], +m[5]];
  const s = m[6] === undefined ? 0 : +m[6];
  if (y < MIN_INSTANT_YEAR || mo < 1 || mo > 12 || d < 1 || d > new Date(Date.UTC(y, mo, 0)).getUTCDate() || h > 23 || mi > 59 || s > 59) return false;
  if (m[8] !== undefined) {
    const [oh, om] = [+m[9], +m[10]];
    if (om > 59 || oh * 60 + om > MAX_OFFSET_MINUTES) return false;
  }
  try {
    parseInstant(value);
    return true;
  } catch {
    return false;
  }
}

/** True for a real calendar date 'YYYY-MM-DD'. */
export function isDate(value: unknown): value is IsoDate {
  if (typeof value !== 'string' || !DATE_RE.test(value)) return false;
  return DateTime.fromISO(value, { zone: 'UTC' }).isValid;
}

/**
 * Reads an instant to epoch milliseconds. Everything isInstant accepts takes the hand-written
 * path (Luxon parses it to the same millisecond); the shapes earlier versions accepted and
 * isInstant now refuses (24:00, more than 3 fraction digits, offsets beyond ±14:00, early years)
 * still go to Luxon, so that a log written before still folds.
 */
const parseInstant = memo((value: string): number => {
  const m = INSTANT_RE.exec(value);
  if (m) {
    const [y, mo, d, h, mi] = [+m[1], +m[2], +m[3], +m[4], +m[5]];
    const s = m[6] === undefined ? 0 : +m[6];
    const frac = m[7];
    const off = m[8] === 'Z' ? 0 : (+m[8].slice(1, 3) * 60 + +m[8].slice(4, 6)) * (m[8][0] === '-' ? -1 : 1);
    if (y >= 1000 && mo >= 1 && mo <= 12 && d >= 1 && d <= new Date(Date.UTC(y, mo, 0)).getUTCDate() && h <= 23 && mi <= 59 && s <= 59
      && (frac === undefined || frac.length <= 3) && (m[8] === 'Z' || (+m[8].slice(1, 3) <= 23 && +m[8].slice(4, 6) <= 59))) {
      return Date.UTC(y, mo - 1, d, h, mi, s, frac === undefined ? 0 : +frac.padEnd(3, '0')) - off * 60_000;
    }
  }
  const dt = DateTime.fromISO(value, { setZone: true });
  if (!dt.isValid || !INSTANT_RE.test(value)) throw new RangeError(`not an instant with offset: ${value}`);
  return dt.toMillis();
});

export function instantMs(value: IsoInstant): number {
  return parseInstant(value);
}

export function toUtcIso(ms: number): IsoInstant {
  return new Date(ms).toISOString();
}

const zonedDate = memo((key: string): IsoDate => {
  const [ms, zone] = key.split('|');
  return DateTime.fromMillis(Number(ms), { zone }).toISODate()!;
});

/** The calendar date of an instant in a zone. */
export function dateInZone(ms: number, zone: string): IsoDate {
  const offsetMs = offsetAt(ms, zone);
  if (offsetMs !== null) return new Date(ms + offsetMs).toISOString().slice(0, 10);
  return zonedDate(`${ms}|${zone}`);
}

const dayStart = memo((key: string): number => {
  const [date, zone] = key.split('|');
  // local midnight from the zone's offset when no transition is within 3 hours of it (else Luxon,
  // which settles skipped and repeated midnights its own way)
  const utcMidnight = DATE_RE.test(date) ? Date.parse(`${date}T00:00:00Z`) : NaN;
  const offset = offsetAt(utcMidnight, zone);
  const t = offset === null ? NaN : utcMidnight - offset;
  if (Number.isFinite(t) && offsetAt(t, zone) === offset && offsetAt(t - 3 * HOUR_MS, zone) === offset && offsetAt(t + 3 * HOUR_MS, zone) === offset
    && dateInZone(t, zone) === date) {
    return t;
  }
  const dt = DateTime.fromISO(date, { zone }).startOf('day');
  if (!dt.isValid) throw new RangeError(`invalid date or zone: ${date} ${zone}`);
  return dt.toMillis();
});

/** 0:00 of a date in a zone (T1). On a day whose midnight does not exist, the first instant of the day. */
export function startOfDay(date: IsoDate, zone: string): number {
  return dayStart(`${date}|${zone}`);
}

/**
 * A zone's offsets during one UTC year, as segments [fromMs, next fromMs) of constant offset, with
 * the suffix Luxon renders for each. Found by sampling every week and bisecting where the
 * offset changes: a few hundred Luxon calls once per zone and year, instead of several per
 * distinct day (Luxon's offsets go through Intl and cost tens of microseconds each).
 */
interface OffsetSegment {
  fromMs: number;
  offsetMs: number;
  suffix: string;
}

const SAMPLE_MS = 7 * DAY_MS;

const zoneYear = memo((key: string): OffsetSegment[] | null => {
  const [yearText, zone] = key.split('|');
  const year = Number(yearText);
  const start = Date.UTC(year, 0, 1);
  const end = Date.UTC(year + 1, 0, 1);
  const offsetOf = (ms: number) => DateTime.fromMillis(ms, { zone }).offset * 60_000;
  if (!DateTime.fromMillis(start, { zone }).isValid) return null;
  const segment = (fromMs: number, offsetMs: number): OffsetSegment => ({
    fromMs,
    offsetMs,
    suffix: DateTime.fromMillis(fromMs, { zone }).toISO()!.slice(23),
  });
  const segments = [segment(start, offsetOf(start))];
  let previous = start;
  let previousOffset = segments[0].offsetMs;
  for (let t = Math.min(start + SAMPLE_MS, end - 1); ; t = Math.min(t + SAMPLE_MS, end - 1)) {
    const offset = offsetOf(t);
    if (offset !== previousOffset) {
      // the first millisecond at the new offset, between the two samples
      let lo = previous;
      let hi = t;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (offsetOf(mid) === previousOffset) lo = mid;
        else hi = mid;
      }
      segments.push(segment(hi, offset));
      previousOffset = offset;
    }
    previous = t;
    if (t >= end - 1) break;
  }
  return segments;
});

/** The zone's offset (and Luxon's rendering of it) at an instant, or null where Luxon should answer. */
function segmentAt(ms: number, zone: string): OffsetSegment | null {
  // whole milliseconds in years 1970-9999, where toISOString and Luxon print the same digits
  if (!Number.isInteger(ms) || ms < 0 || ms >= 253_402_300_800_000) return null;
  const segments = zoneYear(`${new Date(ms).getUTCFullYear()}|${zone}`);
  if (!segments) return null;
  let found = segments[0];
  for (const s of segments) if (s.fromMs <= ms) found = s;
  return found;
}

/** The zone's UTC offset at an instant, or null where Luxon should answer. */
function offsetAt(ms: number, zone: string): number | null {
  return segmentAt(ms, zone)?.offsetMs ?? null;
}

/** The same instant rendered in a zone with its offset, e.g. 2025-03-25T00:00:00.000-07:00. */
export function instantInZone(ms: number, zone: string): IsoInstant {
  const z = segmentAt(ms, zone);
  if (z === null) return DateTime.fromMillis(ms, { zone }).toISO()!;
  return new Date(ms + z.offsetMs).toISOString().slice(0, 23) + z.suffix;
}

const plusMonths = memo((key: string): IsoDate => {
  const [date, months] = key.split('|');
  return DateTime.fromISO(date, { zone: 'UTC' }).plus({ months: Number(months) }).toISODate()!;
});

export function addMonths(date: IsoDate, months: number): IsoDate {
  return plusMonths(`${date}|${months}`);
}

const plusDays = memo((key: string): IsoDate => {
  const [date, days] = key.split('|');
  return DateTime.fromISO(date, { zone: 'UTC' }).plus({ days: Number(days) }).toISODate()!;
});

export function addDays(date: IsoDate, days: number): IsoDate {
  return plusDays(`${date}|${days}`);
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


