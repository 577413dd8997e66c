/** Further commands (seed, bench) register here: name -> { summary, run }. */
import type { CliContext } from './main';
import { seedCommand } from './seed/seed';

export interface CliCommand {
  summary: string;
  run(ctx: CliContext): Promise<number>;
}

export const COMMANDS: Record<string, CliCommand> = {
  seed: {
    summary: 'generate realistic data through the ledger: --devices N [--seed S] (seed --help)',
    run: seedCommand,
  },
};
