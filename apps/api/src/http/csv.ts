/**
 * CSV answers for auditors (RFC 4180): a header row, CRLF line ends, a field quoted when it holds
 * a comma, a double quote, CR or LF, with its double quotes doubled. Safe to open in a spreadsheet
 * (OWASP "CSV injection"): a text cell that starts with =, +, -, @, TAB or CR is prefixed with a
 * single quote, so no spreadsheet reads it as a formula. Numeric columns (positions, revisions)
 * hold non-negative integers written as digits and are never prefixed; every other column is text
 * and is prefixed whatever it holds (a serial "-5" shows as '-5: it is text, not minus five).
 * Objects and arrays (an event's data, a decision's event ids and request) are JSON text in one cell.
 *
 * The rows are streamed: read from the read store a page at a time, each page written when the
 * client has taken the one before (a Readable that is only read when the socket drains), up to
 * the read models' checkpoint when the answer began, whatever the size.
 */
import { Readable } from 'node:stream';
import type { Page } from '../ports/ports';

export interface CsvColumn<T> {
  name: string;
  value: (row: T) => unknown;
  /** Non-negative integers (positions, revisions): written as digits, never prefixed. */
  numeric?: boolean;
}

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;
const DIGITS = /^\d+$/;

/** One cell: text made formula-safe, then quoted as RFC 4180 says. */
export function csvCell(value: unknown, numeric = false): string {
  if (value === null || value === undefined) return '';
  const integer =
    (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) || (typeof value === 'bigint' && value >= 0n) || (typeof value === 'string' && DIGITS.test(value));
  if (numeric && integer) return String(value);
  let text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(cells: string[]): string {
  return `${cells.join(',')}\r\n`;
}

export function csvHeader<T>(columns: CsvColumn<T>[]): string {
  return csvLine(columns.map((c) => csvCell(c.name)));
}

export function csvRow<T>(columns: CsvColumn<T>[], row: T): string {
  return csvLine(columns.map((c) => csvCell(c.value(row), c.numeric)));
}

/** How many rows are read from the read store at a time. */
export const CSV_BATCH = 1000;

/**
 * The header, then every row `read` gives page by page (`after`: the previous page's `next`), as a
 * byte stream that reads the next page only when the consumer wants more (backpressure). Stops
 * reading when the stream is destroyed (the client went away, the node shuts down).
 */
export function csvStream<T>(columns: CsvColumn<T>[], read: (after: number | undefined, limit: number) => Page<T>, batch = CSV_BATCH): Readable {
  async function* chunks(): AsyncGenerator<string> {
    yield csvHeader(columns);
    let after: number | undefined;
    for (;;) {
      const page = read(after, batch);
      let text = '';
      for (const row of page.items) text += csvRow(columns, row);
      if (text !== '') yield text;
      if (page.next === null) return;
      after = page.next;
    }
  }
  return Readable.from(chunks(), { objectMode: false, highWaterMark: 64 * 1024 });
}

/** Content-Disposition for a CSV download: an ASCII file name (the API makes it; no client input goes in). */
export function attachment(filename: string): string {
  return `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`;
}
