/** Path parameters are checked like body fields: a malformed id is a 400, never a lookup. */
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

export function positionOf(value: string | undefined): bigint | undefined {
  return value === undefined ? undefined : BigInt(value);
}

export function limitOf(value: string | undefined, fallback = 100): number {
  return value === undefined ? fallback : Number(value);
}
