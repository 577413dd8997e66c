/** Path parameters and paging: a malformed id or cursor is a 400, never a lookup. */
import { Injectable, PipeTransform } from '@nestjs/common';
import { badRequest } from '../http/problem';
import { IDENTIFIER, SERIAL } from '../dto/validators';

@Injectable()
export class SerialParam implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!SERIAL.test(value)) throw badRequest('The serial in the path is malformed.', [{ field: 'serial', message: 'must be 1-64 letters, digits, dots, underscores or dashes' }]);
    return value;
  }
}

@Injectable()
export class IdParam implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!IDENTIFIER.test(value)) throw badRequest('The id in the path is malformed.', [{ field: 'id', message: 'must be 1-100 letters, digits, dots, colons, underscores or dashes' }]);
    return value;
  }
}

export function limitOf(value: string | undefined, fallback = 100): number {
  return value === undefined ? fallback : Number(value);
}

/** Cursors are opaque to clients: a position (or queue sequence) this server issued. */
export function nextCursor(next: number | null): string | null {
  return next === null ? null : Buffer.from(JSON.stringify({ p: next })).toString('base64url');
}

export function cursorOf(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { p?: unknown };
    if (typeof value.p === 'number' && Number.isSafeInteger(value.p) && value.p >= 0) return value.p;
  } catch {
    // fall through
  }
  throw badRequest('The cursor is not one this server issued.', [{ field: 'cursor', message: 'invalid cursor' }]);
}
