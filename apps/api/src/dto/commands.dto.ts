/**
 * Request bodies (API.md). The global ValidationPipe forbids unknown fields and wrong types; these
 * classes say what each field must be. Dates and instants are checked by the domain's own parsers.
 */
import { CAUSES, REGIONS } from '@careledger/domain';
import { Type } from 'class-transformer';
import {
  Equals, IsBoolean, IsIn, IsInt, IsNotEmpty, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateNested,
} from 'class-validator';
import { CURRENCY, IDENTIFIER, IsAmount, IsInstant, SERIAL } from './validators';

export class MoneyDto {
  /** Decimal string in major units, e.g. "159.00". */
  @IsAmount()
  amount: string;

  /** ISO 4217 code. */
  @Matches(CURRENCY, { message: 'currency must be an ISO 4217 code such as USD' })
  currency: string;
}

export class ActivationDto {
  @MaxLength(100) @IsNotEmpty() @IsString()
  model: string;

  @IsIn(REGIONS)
  region: string;

  @IsInstant()
  activatedAt: string;
}

export class PairingDto {
  @IsIn(['account', 'remote-controller'])
  kind: 'account' | 'remote-controller';

  @MaxLength(200) @IsNotEmpty() @IsString()
  ref: string;

  @IsIn(['bind', 'unbind'])
  action: 'bind' | 'unbind';

  @IsInstant()
  at: string;
}

export class VerificationDto {
  @IsIn(['video', 'inspection'])
  method: 'video' | 'inspection';

  @IsInstant()
  notifiedAt: string;
}

export class PurchaseDto {
  /** Optional: the plan id to create; by default one is derived from orderId. */
  @IsOptional() @Matches(IDENTIFIER, { message: 'planId must be 1-100 letters, digits, dots, colons, underscores or dashes' })
  planId?: string;

  @IsIn(['1y', '2y'])
  term: '1y' | '2y';

  @MaxLength(100) @IsNotEmpty() @IsString()
  model: string;

  @IsIn(REGIONS)
  region: string;

  @IsIn(['bundle', 'online', 'card'])
  channel: 'bundle' | 'online' | 'card';

  @IsInstant()
  purchasedAt: string;

  @MaxLength(200) @IsNotEmpty() @IsString()
  orderId: string;

  /** Required for bundle and online plans; a card plan is bound later. */
  @IsOptional() @Matches(SERIAL, { message: 'serial must be 1-64 letters, digits, dots, underscores or dashes' })
  serial?: string;

  /** The bundle's delivery instant (RULES P6). */
  @IsOptional() @IsInstant()
  deliveredAt?: string;

  @IsOptional() @ValidateNested() @Type(() => MoneyDto)
  price?: MoneyDto;
}

export class BindingDto {
  @Matches(SERIAL, { message: 'serial must be 1-64 letters, digits, dots, underscores or dashes' })
  serial: string;

  @IsInstant()
  boundAt: string;
}

export class RenewalDto {
  @IsInstant()
  purchasedAt: string;

  @MaxLength(200) @IsNotEmpty() @IsString()
  orderId: string;

  /** Only "1y" is ever accepted (RULES P2). */
  @IsOptional() @IsIn(['1y', '2y'])
  term?: '1y' | '2y';

  @IsOptional() @ValidateNested() @Type(() => MoneyDto)
  price?: MoneyDto;
}

export class CarePlusDto {
  @IsInstant()
  purchasedAt: string;

  @MaxLength(200) @IsNotEmpty() @IsString()
  orderId: string;

  @IsOptional() @ValidateNested() @Type(() => MoneyDto)
  price?: MoneyDto;
}

export class ClaimDto {
  @MaxLength(200) @IsNotEmpty() @IsString()
  claimRef: string;

  @Matches(SERIAL, { message: 'serial must be 1-64 letters, digits, dots, underscores or dashes' })
  serial: string;

  @IsIn(['damage', 'flyaway'])
  kind: 'damage' | 'flyaway';

  @IsIn(CAUSES)
  cause: string;

  @IsInstant()
  incidentAt: string;

  @IsInstant()
  openedAt: string;

  @Matches(IDENTIFIER, { message: 'serviceCenterId must be 1-100 letters, digits, dots, colons, underscores or dashes' })
  serviceCenterId: string;

  @IsOptional() @IsBoolean()
  express?: boolean;

  @IsOptional() @IsBoolean()
  flightRecordsSynced?: boolean;
}

export class AtDto {
  @IsInstant()
  at: string;
}

export class ReasonDto {
  @IsInstant()
  at: string;

  @MaxLength(1000) @IsNotEmpty() @IsString()
  reason: string;
}

export class PaymentDto {
  @IsInstant()
  at: string;

  @IsAmount()
  amount: string | number;

  @Matches(CURRENCY, { message: 'currency must be an ISO 4217 code such as USD' })
  currency: string;
}

export class FulfilmentDto {
  @IsInstant()
  at: string;

  @Matches(SERIAL, { message: 'replacementSerial must be 1-64 letters, digits, dots, underscores or dashes' })
  replacementSerial: string;
}

export class ServiceRecordDto {
  @IsIn(['warranty-repair', 'discounted-repair', 'factory-maintenance'])
  kind: 'warranty-repair' | 'discounted-repair' | 'factory-maintenance';

  @IsInstant()
  at: string;

  @Matches(IDENTIFIER, { message: 'serviceCenterId must be 1-100 letters, digits, dots, colons, underscores or dashes' })
  serviceCenterId: string;
}

export class ServiceCenterDto {
  @MaxLength(200) @IsNotEmpty() @IsString()
  name: string;

  @IsIn(REGIONS)
  region: string;
}

export class CorrectionDto {
  @MaxLength(100) @IsNotEmpty() @IsString()
  eventId: string;

  @IsIn(['void', 'amend'])
  action: 'void' | 'amend';

  @MaxLength(1000) @IsNotEmpty() @IsString()
  reason: string;

  /** The fields of the corrected event to change (amend only). */
  @IsOptional() @IsObject()
  amendment?: Record<string, unknown>;
}

export class WarrantyExtensionDto {
  @Equals('goodwill', { message: 'kind must be "goodwill"' })
  kind: 'goodwill';

  @IsInt() @Min(1) @Max(36)
  months: number;

  @MaxLength(1000) @IsNotEmpty() @IsString()
  reason: string;

  @IsInstant()
  at: string;
}

