/** What runs: the version in the project's package.json (the metrics' build info, the landing answer, the start-up banner). */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let found: string | null = null;

/** The version in the project's package.json, found upwards from this file (sources or dist); 'unknown' without one. */
export function appVersion(from: string = __dirname): string {
  if (found !== null) return found;
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'careledger' && pkg.version) return (found = pkg.version);
    } catch {
      // not here
    }
    if (dirname(dir) === dir) return (found = 'unknown');
  }
}
