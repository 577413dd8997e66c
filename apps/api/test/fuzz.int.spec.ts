/**
 * Generated bodies at every POST (fast-check): never a 5xx, and a refused request (4xx) never
 * appends an event. Bodies mix valid values of the real fields with anything JSON can carry.
 */
import fc from 'fast-check';
import { scenario, TestServer } from './harness';

const instant = fc
  .date({ min: new Date('2023-01-01T00:00:00Z'), max: new Date('2026-06-01T00:00:00Z'), noInvalidDate: true })
  .chain((d) =>
    fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(d.toISOString(), d.toISOString().replace('Z', '-07:00')) },
      { weight: 1, arbitrary: fc.constantFrom(d.toISOString().slice(0, 19), d.toISOString().slice(0, 10)) },
    ),
  );
const junk = fc.oneof(fc.anything({ maxDepth: 2 }), fc.string(), fc.integer(), fc.boolean(), fc.constant(null));
const pick = (...values: unknown[]) => fc.constantFrom(...values);

const FIELDS: Record<string, Record<string, fc.Arbitrary<unknown>>> = {
  activation: { model: pick('Mavic 3', 'Osmo Pocket 3', 'RS 4 Mini', 'Nope 9'), region: pick('US', 'EU', 'XX'), activatedAt: instant },
  pairings: { kind: pick('account', 'remote-controller', 'x'), ref: fc.string({ minLength: 1, maxLength: 10 }), action: pick('bind', 'unbind'), at: instant },
  verifications: { method: pick('video', 'inspection'), notifiedAt: instant },
  plans: {
    planId: fc.string({ maxLength: 12 }), term: pick('1y', '2y', '3y'), model: pick('Mavic 3', 'OM 5', 'x'), region: pick('US', 'EU', 'UK'),
    channel: pick('bundle', 'online', 'card'), purchasedAt: instant, orderId: fc.string({ minLength: 1, maxLength: 8 }), serial: pick('FZ-A', 'FZ-B', 'FZ-C', 'bad serial'),
    deliveredAt: instant, price: fc.record({ amount: pick('10.00', 'x', 10), currency: pick('USD', 'usd') }),
  },
  binding: { serial: pick('FZ-A', 'FZ-D', ''), boundAt: instant },
  renewals: { purchasedAt: instant, orderId: fc.string({ minLength: 1, maxLength: 8 }), term: pick('1y', '2y', 'x') },
  'care-plus': { purchasedAt: instant, orderId: fc.string({ minLength: 1, maxLength: 8 }) },
  claims: {
    claimRef: fc.string({ minLength: 1, maxLength: 8 }), serial: pick('FZ-A', 'FZ-B'), kind: pick('damage', 'flyaway', 'x'),
    cause: pick('collision', 'flyaway', 'loss', 'nope'), incidentAt: instant, openedAt: instant, serviceCenterId: pick('SC-1', 'SC-2'),
    express: fc.boolean(), flightRecordsSynced: fc.boolean(),
  },
  approval: { at: instant },
  denial: { at: instant, reason: fc.string({ minLength: 1, maxLength: 20 }) },
  cancellation: { at: instant, reason: fc.string({ minLength: 1, maxLength: 20 }) },
  payment: { at: instant, amount: pick('159.00', '1', 159, 'abc'), currency: pick('USD', 'EUR') },
  fulfilment: { at: instant, replacementSerial: pick('FZ-R1', 'FZ-A') },
  'service-records': { kind: pick('warranty-repair', 'discounted-repair', 'factory-maintenance'), at: instant, serviceCenterId: pick('SC-1', 'SC-2') },
  corrections: { eventId: fc.string(), action: pick('void', 'amend'), reason: fc.string({ minLength: 1, maxLength: 20 }), amendment: fc.dictionary(fc.string({ maxLength: 12 }), junk, { maxKeys: 3 }) },
  'warranty-extensions': { kind: pick('goodwill', 'other'), months: fc.oneof(fc.integer({ min: -2, max: 40 }), junk), reason: fc.string({ minLength: 1, maxLength: 20 }), at: instant },
  'service-centers': { name: fc.string({ minLength: 1, maxLength: 20 }), region: pick('US', 'EU', 'ZZ') },
};

function body(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const keys = Object.keys(fields);
  const record = fc.record(
    Object.fromEntries(keys.map((k) => [k, fc.oneof({ weight: 30, arbitrary: fields[k] }, { weight: 1, arbitrary: junk })])),
    { requiredKeys: keys.filter((k) => !['planId', 'serial', 'deliveredAt', 'price', 'term', 'amendment', 'express', 'flightRecordsSynced'].includes(k)) },
  );
  return fc.oneof(
    { weight: 8, arbitrary: record },
    { weight: 1, arbitrary: fc.tuple(record, fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), junk, { maxKeys: 2 })).map(([a, b]) => ({ ...b, ...a })) },
    { weight: 1, arbitrary: junk },
  );
}

describe('fuzzing every POST', () => {
  let server: TestServer;
  let claimId: string;
  let planId: string;
  let cardPlanId: string;

  beforeAll(async () => {
    server = await TestServer.start();
    const s = scenario(server);
    await s.center('SC-1', 'US');
    ({ planId } = await s.buy({ term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-03-10T09:00:00-07:00', orderId: 'FZ-1', serial: 'FZ-A' }));
    ({ planId: cardPlanId } = await s.buy({ term: '2y', model: 'Mavic 3', region: 'US', channel: 'card', purchasedAt: '2024-03-10T09:00:00-07:00', orderId: 'FZ-2' }));
    claimId = (await s.open({ claimRef: 'FZ-C1', serial: 'FZ-A', incidentAt: '2024-05-01T10:00:00-07:00', openedAt: '2024-05-01T10:00:00-07:00' })).body.claimId;
  });
  afterAll(() => server.stop());

  const routes = (): [string, string, string][] => [
    ['POST', '/v1/devices/FZ-A/activation', 'activation'],
    ['POST', '/v1/devices/FZ-B/pairings', 'pairings'],
    ['POST', '/v1/devices/FZ-B/verifications', 'verifications'],
    ['POST', '/v1/plans', 'plans'],
    ['POST', `/v1/plans/${cardPlanId}/binding`, 'binding'],
    ['POST', `/v1/plans/${planId}/renewals`, 'renewals'],
    ['POST', `/v1/plans/${planId}/care-plus`, 'care-plus'],
    ['POST', '/v1/claims', 'claims'],
    ['POST', `/v1/claims/${claimId}/approval`, 'approval'],
    ['POST', `/v1/claims/${claimId}/denial`, 'denial'],
    ['POST', `/v1/claims/${claimId}/cancellation`, 'cancellation'],
    ['POST', `/v1/claims/${claimId}/payment`, 'payment'],
    ['POST', `/v1/claims/${claimId}/fulfilment`, 'fulfilment'],
    ['POST', '/v1/devices/FZ-A/service-records', 'service-records'],
    ['POST', '/v1/corrections', 'corrections'],
    ['POST', '/v1/devices/FZ-A/warranty-extensions', 'warranty-extensions'],
    ['PUT', '/v1/service-centers/SC-Z', 'service-centers'],
  ];

  test('no 5xx, and no domain event appended for a refused request (a 422 leaves exactly its refusal fact)', async () => {
    for (const [method, path, kind] of routes()) {
      await fc.assert(
        fc.asyncProperty(body(FIELDS[kind]), fc.option(fc.oneof(fc.string({ maxLength: 20 }), fc.nat(30).map((n) => `"${n}"`)), { freq: 6 }), async (payload, ifMatch) => {
          const before = await server.eventCount();
          const headers: Record<string, string> = {};
          if (ifMatch !== null) headers['If-Match'] = ifMatch;
          const answer = await server.call(method, path, 'admin', payload === undefined ? null : payload, headers);
          if (answer.status >= 500) throw new Error(`${method} ${path} ${JSON.stringify(payload)} -> ${answer.status} ${JSON.stringify(answer.body)}`);
          if (answer.status >= 400) {
            expect(answer.headers.get('content-type')).toContain('application/problem+json');
            expect(await server.typesAfter(before)).toEqual(answer.status === 422 ? ['CommandRefused'] : []);
          }
        }),
        { numRuns: 80, seed: 20261122 },
      );
    }
  }, 120_000);
});
