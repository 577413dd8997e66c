/**
 * What the swagger plugin cannot tell from a property's TypeScript type, for answer classes:
 * that a string is an instant, a date or a global position, that a number is an integer. Type,
 * required, nullable, enum and description come from the property itself (see commands.dto.ts).
 */
import { ApiProperty } from '@nestjs/swagger';
import { DATE_DOC, INSTANT_DOC } from './validators';

/** An instant with offset (format date-time, see validators.ts INSTANT_DOC). */
export const Instant = () => ApiProperty(INSTANT_DOC);
/** A date YYYY-MM-DD in the plan region's zone. */
export const CalendarDate = () => ApiProperty(DATE_DOC);
/** A global position of the log: a decimal string (64-bit, beyond JSON numbers). */
export const Position = () => ApiProperty({ type: String, pattern: '^\\d+$', example: '1042' });
/** A whole number. */
export const Int = (example?: number) => ApiProperty({ type: 'integer', example });
