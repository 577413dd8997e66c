/*
 * A node that delivers webhooks until it is killed (not a test itself): a Runtime on the given
 * store with its webhook dispatcher started. Prints `ready <nodeId>` once delivering.
 * argv: <store location JSON> <read.sqlite> <policy JSON>
 */
import { dirname, join } from 'node:path';
import { openTestStoreAt, TestStoreLocation } from '@careledger/testing/stores';
import { Runtime } from '../runtime';

async function main(): Promise<void> {
  const [location, readDbPath, policy] = process.argv.slice(2);
  const store = await openTestStoreAt(JSON.parse(location) as TestStoreLocation);
  const rt = await Runtime.open({
    store, dbPath: join(dirname(readDbPath), 'unused.sqlite'), readDbPath, signingKeyDefaultFile: join(dirname(readDbPath), 'child-key.pem'), project: false,
  });
  rt.webhooks.start(JSON.parse(policy));
  process.stdout.write(`ready ${rt.nodeId}\n`);
  setInterval(() => undefined, 60_000);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
