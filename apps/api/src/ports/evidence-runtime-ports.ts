/** The dispute ports of evidence-ports.ts over one node's Runtime. */
import { randomUUID } from 'node:crypto';
import type { CorrectEvent } from '@careledger/domain';
import { Ledger } from '@careledger/ledger';
import { buildStatement, previewCorrection, Runtime } from '@careledger/runtime';
import { CorrectionPreviews, PreviewCaller, Statements } from './evidence-ports';

export class RuntimeCorrectionPreviews extends CorrectionPreviews {
  constructor(private readonly rt: Runtime) {
    super();
  }

  preview(command: CorrectEvent, caller: PreviewCaller) {
    // the id the ledger will give the correction: keyed by the Idempotency-Key (as Ledger.execute does), else a fresh one
    const correctionId = caller.idempotencyKey ? Ledger.keyedDecisionId(caller.tokenId ?? `actor:${caller.actor}`, caller.idempotencyKey) : randomUUID();
    return previewCorrection(
      { store: this.rt.store, catalogue: this.rt.catalogue },
      command,
      { now: this.rt.clock.now(), correctionId, actor: caller.actor, correlationId: caller.correlationId },
    );
  }
}

export class RuntimeStatements extends Statements {
  constructor(private readonly rt: Runtime) {
    super();
  }

  statement(serial: string, query: { at?: string; knownAt?: string }) {
    return buildStatement(
      { store: this.rt.store, catalogue: this.rt.catalogue, checkpoints: this.rt.checkpoints },
      { serial, at: query.at ?? null, knownAt: query.knownAt ?? null, now: this.rt.clock.now() },
    );
  }
}
