/**
 * Strict validators for the API's value formats (API.md): instants with offsets, dates, money,
 * identifiers. Each one also says, in the OpenAPI document, what it accepts (format, pattern,
 * example): the swagger plugin describes the rest of a property (type, required, nullable, enum,
 * description from its comment), but it cannot read what a custom validator accepts.
 */
import { isDate, isInstant, isDecimal } from '@careledger/domain';
import { ApiProperty, ApiPropertyOptions } from '@nestjs/swagger';
import { registerDecorator, ValidationOptions } from 'class-validator';

export const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;
export const SERIAL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const CURRENCY = /^[A-Z]{3}$/;

/** An instant as the API writes it (API.md): ISO-8601 with an explicit offset. */
export const INSTANT_EXAMPLE = '2024-03-10T14:22:00-07:00';
export const DATE_EXAMPLE = '2024-03-10';
/**
 * What `format: date-time` means in this API: RFC 3339 with an offset within ±14:00, years from
 * 1000, at most milliseconds; the seconds may be left out (`2024-03-10T14:22-07:00`, ISO 8601's
 * reduced precision, as RULES.md's worked examples write instants). Answers give instants back as
 * they were recorded.
 */
export const INSTANT_DOC: ApiPropertyOptions = { type: String, format: 'date-time', example: INSTANT_EXAMPLE };
export const DATE_DOC: ApiPropertyOptions = { type: String, format: 'date', example: DATE_EXAMPLE };

/** A validator's options, and the example the document shows for this property (else the format's). */
export type RuleOptions = ValidationOptions & { example?: unknown };

function rule(name: string, test: (value: unknown) => boolean, message: string, doc: ApiPropertyOptions) {
  return ({ example, ...options }: RuleOptions = {}) =>
    (target: object, propertyName: string) => {
      registerDecorator({
        name,
        target: target.constructor,
        propertyName,
        options: { message: `${propertyName} ${message}`, ...options },
        validator: { validate: (value: unknown) => test(value) },
      });
      ApiProperty(example === undefined ? doc : { ...doc, example })(target, propertyName);
    };
}

/** ISO-8601 instant with an explicit offset, e.g. 2024-03-10T14:22:00-07:00 (libs/domain isInstant). */
export const IsInstant = rule('isInstant', isInstant, 'must be an ISO-8601 instant with an offset (e.g. 2024-03-10T14:22:00-07:00)', INSTANT_DOC);

/** A calendar date YYYY-MM-DD. */
export const IsIsoDate = rule('isIsoDate', isDate, 'must be a date YYYY-MM-DD', DATE_DOC);

/** An instant with offset, or a date. */
export const IsInstantOrDate = rule('isInstantOrDate', (v) => isInstant(v) || isDate(v), 'must be an ISO-8601 instant with an offset or a date YYYY-MM-DD', {
  type: String,
  description: 'An instant with offset (format date-time), or a date YYYY-MM-DD meaning 0:00 of that day in the plan region\'s zone.',
  example: DATE_EXAMPLE,
});

/** A decimal amount in major units as a string ("159.00"); a JSON number is accepted too. */
export const IsAmount = rule(
  'isAmount',
  (v) => isDecimal(v) || (typeof v === 'number' && Number.isFinite(v) && v >= 0 && isDecimal(String(v))),
  'must be a decimal amount such as "159.00"',
  { oneOf: [{ type: 'string', pattern: '^\\d+(\\.\\d+)?$' }, { type: 'number', minimum: 0 }], example: '159.00', type: undefined },
);

const matching = (name: string, re: RegExp, message: string, example: string) =>
  rule(name, (v) => typeof v === 'string' && re.test(v), message, { type: String, pattern: re.source, example });

/** A device serial: 1-64 letters, digits, dots, underscores or dashes. */
export const IsSerial = matching('isSerial', SERIAL, 'must be 1-64 letters, digits, dots, underscores or dashes', 'SN-1581F5FHD23');
/** An id (plan, claim, center): 1-100 letters, digits, dots, colons, underscores or dashes. */
export const IsIdentifier = matching('isIdentifier', IDENTIFIER, 'must be 1-100 letters, digits, dots, colons, underscores or dashes', 'SC-1');
/** An ISO 4217 currency code. */
export const IsCurrencyCode = matching('isCurrency', CURRENCY, 'must be an ISO 4217 code such as USD', 'USD');

/** Free text or a reference: a string of 1 to `max` characters. */
export const IsText = (max: number, options?: RuleOptions) =>
  rule('isText', (v) => typeof v === 'string' && v.length >= 1 && v.length <= max, `must be a non-empty string of at most ${max} characters`, {
    type: String,
    minLength: 1,
    maxLength: max,
  })(options);
