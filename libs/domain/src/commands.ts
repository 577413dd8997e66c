/** Commands: imperative requests, decided against facts. Times are ISO-8601 instants with offsets. */
import type { CenterCommand } from './center/commands';
import type { ClaimCommand } from './claim/commands';
import type { CorrectEvent } from './correction/commands';
import type { DeviceCommand } from './device/commands';
import type { PlanCommand } from './plan/commands';

export type * from './device/commands';
export type * from './plan/commands';
export type * from './claim/commands';
export type * from './center/commands';
export type * from './correction/commands';

export type Command = DeviceCommand | PlanCommand | ClaimCommand | CenterCommand | CorrectEvent;

export type CommandType = Command['type'];

export interface CommandMeta {
  /** The decision instant (ms since epoch), supplied by the caller: the domain never reads a clock. */
  now: number;
}
