export type CorrectEvent = {
  type: 'CorrectEvent';
  eventId: string;
  streamId: string;
  action: 'void' | 'amend';
  reason: string;
  amendment: Record<string, unknown> | null;
};
