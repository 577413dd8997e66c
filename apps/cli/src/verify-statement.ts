/**
 * `careledger verify-statement FILE --public-key KEY.pem`: checks an entitlement statement as a
 * third party can, with the ledger operator's public key and the domain alone (no store, no
 * network): verifyStatement of @careledger/runtime does the checks; this reads the files and says
 * the result. Exit 0 verified, 1 not verified (the first reason), 2 a wrong command line (args.ts).
 */
import { readFileSync } from 'node:fs';
import { loadCatalogue, verifyStatement } from '@careledger/runtime';
import { EXIT, PROGRAM, Values } from './args';

export function verifyStatementCommand(values: Values, out: (line: string) => void = console.log, err: (line: string) => void = console.error): number {
  const file = values.file as string;
  const name = `${PROGRAM} verify-statement`;
  let statement: unknown;
  try {
    statement = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    err(`${name}: NOT VERIFIED: ${file} is not a JSON statement (${(error as Error).message})`);
    return EXIT.failed;
  }
  const embedded = values['embedded-key'] === true;
  const publicKeys = embedded ? null : readFileSync(values['public-key'] as string, 'utf8');
  const catalogue = loadCatalogue((values.catalogue as string | undefined) ?? (process.env.CARELEDGER_CATALOGUE || null));
  const result = verifyStatement(statement, { publicKeys, useEmbeddedKey: embedded, catalogue });
  if (values.json) out(JSON.stringify(result, null, 2));
  if (!result.ok) {
    if (!values.json) for (const c of result.checks) out(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
    err(`${name}: NOT VERIFIED: ${result.reason}`);
    return EXIT.failed;
  }
  if (!values.json) {
    const s = statement as { serial: string; at: string; knownAt: string; events: unknown[]; integrity: { checkpoint: { position: string } } };
    out(`verified: the statement of ${s.serial} at ${s.at}, known at ${s.knownAt}: ${s.events.length} events, covered by checkpoint ${s.integrity.checkpoint.position}, key ${result.key?.keyId}`);
    for (const c of result.checks) out(`  ok   ${c.name}: ${c.detail}`);
    for (const n of result.notChecked) out(`  not checked: ${n}`);
  }
  if (embedded) {
    err(
      `${name}: WARNING: checked with the key embedded in the statement itself. This proves only that the statement is internally consistent ` +
        '(its events, checkpoint and attestation agree with that key), not that the ledger issued it: anyone can make a key. Verify with --public-key and the operator\'s key.',
    );
  }
  return EXIT.ok;
}
