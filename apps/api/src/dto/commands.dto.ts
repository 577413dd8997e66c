/**
 * Request bodies (API.md). The global ValidationPipe forbids unknown fields and wrong types; these
 * classes say what each field must be. The swagger plugin (nest-cli.json, and under jest
 * apps/api/test/swagger-plugin.transform.js) turns them into the OpenAPI schemas: a property's
 * type, whether it is optional (`?`), its enum (`@IsIn` or a union of literals) and its comment
 * become the schema; the validators of validators.ts add the formats, patterns and examples.
 * Every request body is strict (`additionalProperties: false`, openapi.ts).
 */
import { CAUSES, REGIONS } from '@careledger/domain';
import { Type } from 'class-transformer';
import { Equals, IsBoolean, IsIn, IsInt, IsObject, IsOptional, Max, Min, ValidateNested } from 'class-validator';
import { IsAmount, IsCurrencyCode, IsIdentifier, IsInstant, IsSerial, IsText } from './validators';

export class MoneyDto {
  /** Decimal string in major units. */
  @IsAmount()
  amount: string;

  /** ISO 4217 code. */
  @IsCurrencyCode()
  currency: string;
}

export class ActivationDto {
  /**
   * The model's name, as the catalogue writes it.
   * @example Mavic 3
   */
  @IsText(100)
  model: string;

  /** The sales region of the unit. */
  @IsIn(REGIONS)
  region: string;

  /** When the unit was activated. */
  @IsInstant()
  activatedAt: string;
}

export class PairingDto {
  /** What was bound to the unit or unbound from it (RULES R4). */
  @IsIn(['account', 'remote-controller'])
  kind: 'account' | 'remote-controller';

  /**
   * The account's or remote controller's reference.
   * @example acct-3f9a
   */
  @IsText(200)
  ref: string;

  @IsIn(['bind', 'unbind'])
  action: 'bind' | 'unbind';

  /** When it happened. */
  @IsInstant()
  at: string;
}

export class VerificationDto {
  /** A passed video verification or online repair inspection (RULES P4 d/e). */
  @IsIn(['video', 'inspection'])
  method: 'video' | 'inspection';

  /** When the customer was notified that it passed. */
  @IsInstant()
  notifiedAt: string;
}

export class PurchaseDto {
  /** Optional: the plan id to create; by default one is derived from orderId. */
  @IsOptional() @IsIdentifier({ example: 'plan-2024-000123' })
  planId?: string;

  /** A 1- or 2-year plan. */
  @IsIn(['1y', '2y'])
  term: '1y' | '2y';

  /**
   * The covered model, as the catalogue writes it.
   * @example Mavic 3
   */
  @IsText(100)
  model: string;

  /** The plan's region (its reference zone, prices and service region). */
  @IsIn(REGIONS)
  region: string;

  /** Bundled with the unit, bought online for a serial, or a card bound later. */
  @IsIn(['bundle', 'online', 'card'])
  channel: 'bundle' | 'online' | 'card';

  /** When the plan was bought. */
  @IsInstant()
  purchasedAt: string;

  /**
   * The store's order: an order seen before answers its first result.
   * @example ORD-2024-000123
   */
  @IsText(200)
  orderId: string;

  /** Required for bundle and online plans; a card plan is bound later. */
  @IsOptional() @IsSerial()
  serial?: string;

  /** The bundle's delivery instant (RULES P6). */
  @IsOptional() @IsInstant()
  deliveredAt?: string;

  /** What the customer paid. */
  @IsOptional() @ValidateNested() @Type(() => MoneyDto)
  price?: MoneyDto;
}

export class BindingDto {
  /** The unit the card plan is bound to. */
  @IsSerial()
  serial: string;

  /** When it was bound (RULES P4 is measured here). */
  @IsInstant()
  boundAt: string;
}

export class RenewalDto {
  /** When the renewal was bought. */
  @IsInstant()
  purchasedAt: string;

  /**
   * The store's order of the renewal.
   * @example ORD-2025-000456
   */
  @IsText(200)
  orderId: string;

  /** Only "1y" is ever accepted (RULES P2); "2y" is refused with RenewalMustBe1Year. */
  @IsOptional() @IsIn(['1y', '2y'])
  term?: '1y' | '2y';

  /** What the customer paid. */
  @IsOptional() @ValidateNested() @Type(() => MoneyDto)
  price?: MoneyDto;
}

export class CarePlusDto {
  /** When Care Refresh+ was bought. */
  @IsInstant()
  purchasedAt: string;

  /**
   * The store's order.
   * @example ORD-2024-000789
   */
  @IsText(200)
  orderId: string;

  /** What the customer paid. */
  @IsOptional() @ValidateNested() @Type(() => MoneyDto)
  price?: MoneyDto;
}

export class ClaimDto {
  /**
   * The service center's own reference for the claim: a reference seen before answers its first result.
   * @example SC1-2024-0042
   */
  @IsText(200)
  claimRef: string;

  /** The unit claimed for. */
  @IsSerial()
  serial: string;

  @IsIn(['damage', 'flyaway'])
  kind: 'damage' | 'flyaway';

  /** What happened (RULES C2 lists the excluded causes). */
  @IsIn(CAUSES)
  cause: string;

  /** When the damage or loss happened. */
  @IsInstant()
  incidentAt: string;

  /** When the claim was opened at the center. */
  @IsInstant()
  openedAt: string;

  /** The center opening it (a service-center token: its own). */
  @IsIdentifier()
  serviceCenterId: string;

  /** Express replacement (RULES R9). */
  @IsOptional() @IsBoolean()
  express?: boolean;

  /** The flight records were synced (needed for flyaway, RULES R4). */
  @IsOptional() @IsBoolean()
  flightRecordsSynced?: boolean;
}

export class AtDto {
  /** When it happened. */
  @IsInstant()
  at: string;
}

export class ReasonDto {
  /** When it happened. */
  @IsInstant()
  at: string;

  /** Why, in words (another service center does not read it). */
  @IsText(1000)
  reason: string;
}

export class PaymentDto {
  /** When it was paid. */
  @IsInstant()
  at: string;

  /** The fee paid; must equal the approved fee. */
  @IsAmount()
  amount: string | number;

  /** ISO 4217 code. */
  @IsCurrencyCode()
  currency: string;
}

export class FulfilmentDto {
  /** When the replacement was issued. */
  @IsInstant()
  at: string;

  /** The unit issued: coverage moves to it (RULES I1). */
  @IsSerial()
  replacementSerial: string;
}

export class ServiceRecordDto {
  @IsIn(['warranty-repair', 'discounted-repair', 'factory-maintenance'])
  kind: 'warranty-repair' | 'discounted-repair' | 'factory-maintenance';

  /** When the service was done. */
  @IsInstant()
  at: string;

  /** The center that did it (a service-center token: its own). */
  @IsIdentifier()
  serviceCenterId: string;
}

export class ServiceCenterDto {
  /**
   * The center's name.
   * @example CareLedger Service San Francisco
   */
  @IsText(200)
  name: string;

  /** The region it serves: its claims' service region (RULES R6). */
  @IsIn(REGIONS)
  region: string;
}

export class CorrectionDto {
  /** The event to correct. */
  @IsText(100)
  eventId: string;

  @IsIn(['void', 'amend'])
  action: 'void' | 'amend';

  /** Why, in words. */
  @IsText(1000)
  reason: string;

  /** The fields of the corrected event to change (amend only). */
  @IsOptional() @IsObject()
  amendment?: Record<string, unknown>;
}

export class WarrantyExtensionDto {
  @Equals('goodwill', { message: 'kind must be "goodwill"' })
  kind: 'goodwill';

  /** How many months the warranty is extended by. */
  @IsInt() @Min(1) @Max(36)
  months: number;

  /** Why, in words. */
  @IsText(1000)
  reason: string;

  /** When it was granted. */
  @IsInstant()
  at: string;
}
