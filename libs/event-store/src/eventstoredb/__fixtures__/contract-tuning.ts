import { CONTRACT_STREAM_PREFIX } from '../../contract/event-store.contract';
import type { EventStoreDbTuning } from '../eventstoredb-event-store';

/**
 * How the contract suite configures the EventStoreDB adapter, against a real node or the stand-in:
 * the log is the suite's test-only streams (`cltest-...`) and nothing else, and records live under
 * test-only names. A node holding real CareLedger data (`plan-`, `device-`...) is never written to
 * under a real name, and its real streams never enter the suite's reads, head hash or verify.
 */
export const CONTRACT_ESDB_TUNING: EventStoreDbTuning = Object.freeze({
  streamPrefixes: [CONTRACT_STREAM_PREFIX],
  records: { streamPrefix: 'cltestrecord-', indexStream: 'cltestrecords' },
});
