/** Further commands (seed, bench) register here: name -> { summary, run }. */
import type { CliContext } from './main';

export interface CliCommand {
  summary: string;
  run(ctx: CliContext): Promise<number>;
}

export const COMMANDS: Record<string, CliCommand> = {};
