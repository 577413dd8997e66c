/**
 * The one way a command route runs its command: the headers of API.md (Idempotency-Key scoped to
 * the token, If-Match), the service center's scope, where the command's claim or corrected event
 * lives, business keys (an order or claim reference seen before answers its first result), the
 * ledger, and the answer `{ ...resource, eventIds, revision, position }` with 201, or 200 for a repeat.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type {
  ApproveClaim, CancelClaim, Command, CorrectEvent, DenyClaim, FulfilClaim, OpenClaim, PayClaim, PurchaseCarePlus, PurchasePlan, RenewPlan,
} from '@careledger/domain';
import { canonicalJson, sha256Hex } from '@careledger/event-store';
import type { CommandResult } from '@careledger/ledger';
import { assertCenter } from '../auth/auth.guard';
import type { Principal } from '../auth/tokens';
import { Directory, LedgerCommands, LedgerQueries } from '../ports/ports';
import { answerOf } from './answers';
import { badRequest, notFound } from './problem';

type WithoutPlan<T> = T extends { planId: string } ? Omit<T, 'planId'> : never;
/** A step of a claim's workflow: the route knows the claim; its plan is looked up. */
export type ClaimStep = WithoutPlan<ApproveClaim | DenyClaim | CancelClaim | PayClaim | FulfilClaim>;
/** A correction: the route knows the event; its stream is looked up. */
export type CorrectionDraft = Omit<CorrectEvent, 'streamId'>;
export type CommandDraft = Exclude<Command, ApproveClaim | DenyClaim | CancelClaim | PayClaim | FulfilClaim | CorrectEvent> | ClaimStep | CorrectionDraft;

export interface RouteContext {
  request: FastifyRequest;
  reply: FastifyReply;
  principal: Principal;
}

const CLAIM_STEPS = new Set(['ApproveClaim', 'DenyClaim', 'CancelClaim', 'PayClaim', 'FulfilClaim']);

@Injectable()
export class CommandRunner {
  constructor(
    @Inject(LedgerCommands) private readonly commands: LedgerCommands,
    @Inject(LedgerQueries) private readonly queries: LedgerQueries,
    @Inject(Directory) private readonly directory: Directory,
  ) {}

  async run({ request, reply, principal }: RouteContext, draft: CommandDraft): Promise<Record<string, unknown>> {
    const key = idempotencyKey(request);
    const ifMatch = parseIfMatch(header(request, 'if-match'));
    let command = await this.resolve(draft, principal);
    if (command.type === 'PurchasePlan') command = await this.orderedPlan(command);
    const first = await this.firstResultOfBusinessKey(command);
    const result: CommandResult =
      first ??
      (await this.commands.execute(
        command,
        {
          actor: principal.actor,
          tokenId: principal.tokenId,
          correlationId: request.id,
          idempotencyKey: key,
          requestHash: key === null ? null : requestHash(request),
          ifMatch,
        },
        answerOf,
      ));
    reply.status(result.repeat ? 200 : 201);
    // the answer's fields in canonical order, as the log keeps them: a replay is the same text
    return { ...(JSON.parse(canonicalJson(result.answer)) as Record<string, unknown>), eventIds: result.eventIds, revision: result.revision, position: result.position };
  }

  /** Completes a draft (a claim step's plan, a correction's stream) and checks the service center's scope. */
  private async resolve(draft: CommandDraft, principal: Principal): Promise<Command> {
    if (CLAIM_STEPS.has(draft.type)) {
      const step = draft as ClaimStep;
      const where = await this.directory.claim(step.claimId);
      if (!where) throw notFound('ClaimNotFound', `No claim ${step.claimId}.`);
      assertCenter(principal, where.centerId);
      return { ...step, planId: where.planId } as Command;
    }
    if (draft.type === 'CorrectEvent') {
      const target = await this.directory.event(draft.eventId);
      if (!target) throw notFound('EventNotFound', `No event ${draft.eventId}.`);
      return { ...draft, streamId: target.streamId };
    }
    const command = draft as Command;
    if (command.type === 'OpenClaim' || command.type === 'RecordService') assertCenter(principal, command.serviceCenterId);
    return command;
  }

  /**
   * API.md: an orderId or a service center's claimRef seen before returns the first result. Most
   * repeats the domain answers itself (the same plan, the same claim id); these are the ones it
   * cannot see: the order used on another plan, the reference used for another unit.
   */
  private async firstResultOfBusinessKey(command: Command): Promise<CommandResult | null> {
    if (command.type === 'PurchasePlan' || command.type === 'RenewPlan' || command.type === 'PurchaseCarePlus') {
      return this.firstOrderResult(command);
    }
    if (command.type === 'OpenClaim') return this.firstClaimResult(command);
    return null;
  }

  /** The same order sent with another plan id: decided on the order's plan, where it is a repeat. */
  private async orderedPlan(command: PurchasePlan): Promise<PurchasePlan> {
    const order = await this.directory.order(command.orderId);
    return order && order.kind === 'purchase' && order.planId !== command.planId ? { ...command, planId: order.planId } : command;
  }

  private async firstOrderResult(command: PurchasePlan | RenewPlan | PurchaseCarePlus): Promise<CommandResult | null> {
    const order = await this.directory.order(command.orderId);
    const kind = command.type === 'PurchasePlan' ? 'purchase' : command.type === 'RenewPlan' ? 'renewal' : 'care-plus';
    if (!order || (order.planId === command.planId && order.kind === kind)) return null;
    const decision = await this.commands.decision(order.eventId);
    if (!decision?.answer) return null;
    return {
      outcome: null, answer: decision.answer, repeat: true, eventIds: decision.eventIds, streamId: '', revision: decision.revision,
      position: decision.position.toString(), decisionId: decision.decisionId,
    };
  }

  private async firstClaimResult(command: OpenClaim): Promise<CommandResult | null> {
    const where = await this.directory.claim(command.claimId);
    if (!where) return null;
    const claim = this.queries.claim(command.claimId);
    if (!claim || claim.serial === command.serial) return null; // the domain answers a repeat for its own unit
    const opened = await this.directory.event(claim.eventIds[0]);
    return {
      outcome: null,
      answer: { claimId: claim.claimId, planId: claim.planId, status: claim.status },
      repeat: true,
      eventIds: [claim.eventIds[0]],
      streamId: '',
      revision: claim.revision,
      position: opened?.position ?? '0',
      decisionId: claim.eventIds[0],
    };
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function idempotencyKey(request: FastifyRequest): string | null {
  const key = header(request, 'idempotency-key');
  if (key === undefined) return null;
  if (key.length === 0 || key.length > 200) {
    throw badRequest('Idempotency-Key must be 1 to 200 characters.', [{ field: 'Idempotency-Key', message: 'must be 1 to 200 characters' }]);
  }
  return key;
}

/** A digest of the request: method, path and canonical body (the same key with another request is refused). */
export function requestHash(request: FastifyRequest): string {
  return sha256Hex(`${request.method} ${request.url.split('?')[0]}\n${canonicalJson(request.body ?? null)}`);
}

/** If-Match: "3" (or 3, or W/"3"); "*" means no precondition. */
export function parseIfMatch(value: string | undefined): number | null {
  if (value === undefined || value.trim() === '*' || value.trim() === '') return null;
  const m = /^\s*(?:W\/)?"?(-?\d{1,15})"?\s*$/.exec(value);
  if (!m) throw badRequest('If-Match must be a revision such as "3".', [{ field: 'If-Match', message: 'must be a quoted revision number' }]);
  return Number(m[1]);
}
