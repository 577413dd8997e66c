#!/usr/bin/env node
// The careledger command line (built by `npm run build`).
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const entry = join(__dirname, '..', 'dist', 'apps', 'cli', 'apps', 'cli', 'src', 'main.js');
if (!existsSync(entry)) {
  console.error('careledger is not built yet: run `npm run build` first.');
  process.exit(2);
}
require(entry);
