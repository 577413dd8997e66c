/** Strict validators for the API's value formats (API.md): instants with offsets, dates, money. */
import { isDate, isInstant, isDecimal } from '@careledger/domain';
import { registerDecorator, ValidationOptions } from 'class-validator';

function rule(name: string, test: (value: unknown) => boolean, message: string) {
  return (options?: ValidationOptions) =>
    (target: object, propertyName: string) =>
      registerDecorator({
        name,
        target: target.constructor,
        propertyName,
        options: { message: `${propertyName} ${message}`, ...options },
        validator: { validate: (value: unknown) => test(value) },
      });
}

/** ISO-8601 instant with an explicit offset, e.g. 2024-03-10T14:22:00-07:00. */
export const IsInstant = rule('isInstant', isInstant, 'must be an ISO-8601 instant with an offset (e.g. 2024-03-10T14:22:00-07:00)');

/** A calendar date YYYY-MM-DD. */
export const IsIsoDate = rule('isIsoDate', isDate, 'must be a date YYYY-MM-DD');

/** An instant with offset, or a date. */
export const IsInstantOrDate = rule('isInstantOrDate', (v) => isInstant(v) || isDate(v), 'must be an ISO-8601 instant with an offset or a date YYYY-MM-DD');

/** A decimal amount in major units as a string ("159.00"); a JSON number is accepted too. */
export const IsAmount = rule(
  'isAmount',
  (v) => isDecimal(v) || (typeof v === 'number' && Number.isFinite(v) && v >= 0 && isDecimal(String(v))),
  'must be a decimal amount such as "159.00"',
);

export const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;
export const SERIAL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const CURRENCY = /^[A-Z]{3}$/;
