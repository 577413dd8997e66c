/*
 * A node that runs commands as fast as it can until it is killed (not a test itself). For each
 * command the ledger acknowledged it prints `ok <decisionId> <position>`, for each refusal
 * `refused <position>`. argv: <store.sqlite> <read.sqlite> <seed>
 */
import { join, dirname } from 'node:path';
import { Refusal } from '@careledger/domain';
import { Runtime } from '../runtime';

async function main(): Promise<void> {
  const [dbPath, readDbPath, seed] = process.argv.slice(2);
  const rt = await Runtime.open({ dbPath, readDbPath, signingKeyDefaultFile: join(dirname(readDbPath), 'key.pem') });
  const worker = async (w: number) => {
    for (let i = 0; ; i++) {
      const serial = `K${seed}-${w}-${i}`;
      const late = i % 4 === 3; // a purchase long after activation: refused (P4)
      try {
        if (late) {
          await rt.ledger.execute({ type: 'ActivateDevice', serial, model: 'Mavic 3', region: 'US', activatedAt: '2024-01-01T10:00:00Z' }, { actor: 'busy', correlationId: serial });
        }
        const result = await rt.ledger.execute(
          {
            type: 'PurchasePlan', planId: `P-${serial}`, term: '1y', model: 'Mavic 3', region: 'US', channel: 'online',
            purchasedAt: '2024-03-10T10:00:00Z', orderId: `O-${serial}`, serial, deliveredAt: null, price: null,
          },
          { actor: 'busy', tokenId: 'tok', correlationId: serial, idempotencyKey: `key-${serial}`, requestHash: 'h' },
        );
        process.stdout.write(`ok ${result.decisionId} ${result.position}\n`);
      } catch (error) {
        if (!(error instanceof Refusal)) throw error;
        process.stdout.write(`refused ${error.code}\n`);
      }
    }
  };
  await Promise.all([0, 1, 2, 3].map(worker));
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
