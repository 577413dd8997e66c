/** Commands implemented outside main.ts (seed), by name; their options and usage are in args.ts. */
import type { CliContext } from './main';
import { seedCommand } from './seed/seed';

export interface CliCommand {
  run(ctx: CliContext): Promise<number>;
}

export const COMMANDS: Record<string, CliCommand> = {
  seed: { run: seedCommand },
};
