/** The integration routes' query strings and bodies (API.md v1.1 "Integration"): strict, like the rest. */
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsOptional, IsString, Matches, MaxLength, MinLength, registerDecorator, ValidationOptions } from 'class-validator';
import { ConsistencyQuery } from './queries.dto';

const POSITION = /^\d{1,20}$/;
const EVENT_TYPE = /^[A-Za-z]{1,60}$/;

export class FeedQuery extends ConsistencyQuery {
  /** Events after this global position (exclusive); default: from the start of the log. */
  @IsOptional() @Matches(POSITION, { message: 'after must be a global position (digits)' })
  after?: string;

  /** At most this many events (1-1000, default 100). */
  @IsOptional() @Matches(/^(?:[1-9]\d{0,2}|1000)$/, { message: 'limit must be an integer from 1 to 1000' })
  limit?: string;

  /** Only these event types, comma-separated (at most 50). */
  @IsOptional() @Matches(/^[A-Za-z]{1,60}(?:,[A-Za-z]{1,60}){0,49}$/, { message: 'types must be event type names separated by commas (at most 50)' })
  types?: string;

  /** Seconds (0-30) to hold the request until an event arrives. */
  @IsOptional() @Matches(/^(?:[0-9]|[12][0-9]|30)$/, { message: 'wait must be an integer number of seconds from 0 to 30' })
  wait?: string;
}

export class DeliveriesQuery {
  @IsOptional() @IsString() @MaxLength(200)
  cursor?: string;

  /** At most this many attempts (1-200, default 50). */
  @IsOptional() @Matches(/^(?:[1-9]\d?|1\d\d|200)$/, { message: 'limit must be an integer from 1 to 200' })
  limit?: string;
}

/** An absolute http(s) URL with a host and no credentials in it. */
export function isWebhookUrl(value: unknown): boolean {
  if (typeof value !== 'string' || value.length > 2000 || /\s/.test(value)) return false;
  if (Array.from(value).some((c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127)) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && url.username === '' && url.password === '';
}

function IsWebhookUrl(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isWebhookUrl',
      target: target.constructor,
      propertyName,
      options: { message: `${propertyName} must be an absolute http or https URL (at most 2000 characters) without credentials in it`, ...options },
      validator: { validate: isWebhookUrl },
    });
}

export class WebhookDto {
  /** Where deliveries are POSTed: an absolute http or https URL, no user or password in it. */
  @IsWebhookUrl() @IsString()
  url: string;

  /** Only these event types (default: every event). */
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(50) @ArrayUnique() @Matches(EVENT_TYPE, { each: true, message: 'each of types must be an event type name' })
  types?: string[] | null;

  /** The HMAC-SHA256 key that signs every delivery (16-256 characters). Stored in the store's records only; never answered. */
  @MaxLength(256, { message: 'secret must be at most 256 characters long' }) @MinLength(16, { message: 'secret must be at least 16 characters long' }) @IsString({ message: 'secret must be a string' })
  secret: string;
}
