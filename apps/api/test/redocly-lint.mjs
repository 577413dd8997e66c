/**
 * Lints an OpenAPI document with Redocly's `recommended` rules and prints the problems as JSON:
 * `node apps/api/test/redocly-lint.mjs <document.json>`. A script of its own because
 * @redocly/openapi-core is an ES module, which jest's CommonJS runtime cannot load.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { createConfig, lintFromString } from '@redocly/openapi-core';

const file = process.argv[2];
const config = await createConfig({ extends: ['recommended'] });
const problems = await lintFromString({ source: readFileSync(file, 'utf8'), absoluteRef: pathToFileURL(file).href, config });
process.stdout.write(
  JSON.stringify(
    problems.map((p) => ({
      rule: p.ruleId,
      severity: p.severity,
      message: p.message,
      at: p.location.map((l) => l.pointer).join(' '),
    })),
  ),
);
