/**
 * What the dispute routes need of a node (API.md v1.1 "Disputes"), as small abstract classes bound
 * in AppModule to the runtime's implementations (evidence-runtime-ports.ts): a correction preview
 * that appends nothing, and an attested entitlement statement.
 */
import type { CorrectEvent } from '@careledger/domain';
import type { CorrectionPreview, Statement } from '@careledger/runtime';

export interface PreviewCaller {
  actor: string;
  /** The calling token's identity (a digest), which scopes Idempotency-Keys. */
  tokenId: string | null;
  correlationId: string;
  /** The Idempotency-Key the correction will be recorded with: the preview then names the same event id. */
  idempotencyKey: string | null;
}

export abstract class CorrectionPreviews {
  /** Decides the correction as the ledger would and answers what it would change; appends nothing. Throws the ledger's refusals. */
  abstract preview(command: CorrectEvent, caller: PreviewCaller): Promise<CorrectionPreview>;
}

export abstract class Statements {
  /** The unit's attested statement, or null when the ledger has no record of it. */
  abstract statement(serial: string, query: { at?: string; knownAt?: string }): Promise<Statement | null>;
}
