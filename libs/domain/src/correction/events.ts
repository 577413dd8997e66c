/** X1: a correction voids or amends an earlier event of the same stream; it applies from its recordedAt on. */
export type EventCorrected = {
  type: 'EventCorrected';
  data: {
    targetEventId: string;
    targetType: string;
    action: 'void' | 'amend';
    reason: string;
    amendment: Record<string, unknown> | null;
  };
};
