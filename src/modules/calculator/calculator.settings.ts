// The calculator part's settings (resolved at boot with every other booted part's; env > config/calculator.yaml >
// default).
import { defineSettings, type SettingsOf } from '../../platform/config/settings.js';
import { int, ipList, port, str, url } from '../../platform/config/parsers.js';
import { MAX_EVENTS_PER_WRITE } from './event-store/postgres-event.store.js';
import { WatchedIpMatcher } from './watched-ip.matcher.js';

const FILE = 'calculator.yaml';

function watchList(raw: unknown): string[] {
  const entries = ipList()(raw);
  new WatchedIpMatcher(entries); // throws naming every entry BlockList would refuse (e.g. a /33)
  return entries;
}

export const calculatorSettings = defineSettings({
  grpcPort: {
    // ORI_PORT is what the original oriServer read.
    env: ['GRPC_PORT', 'ORI_PORT'],
    file: { name: FILE, key: 'grpc.port' },
    default: 50051,
    parse: port(),
  },
  grpcHost: {
    env: 'GRPC_HOST',
    file: { name: FILE, key: 'grpc.host' },
    default: '0.0.0.0',
    parse: str({ minLength: 1 }),
  },
  eventStoreFlushMs: {
    env: 'EVENTSTORE_FLUSH_MS',
    file: { name: FILE, key: 'eventStore.flushMs' },
    default: 50,
    parse: int({ min: 0, max: 60_000 }),
  },
  eventStoreBatchSize: {
    env: 'EVENTSTORE_BATCH_SIZE',
    file: { name: FILE, key: 'eventStore.batchSize' },
    default: 500,
    parse: int({ min: 1, max: MAX_EVENTS_PER_WRITE }),
  },
  eventStoreMaxBuffer: {
    // Must be at least the batch size; the module checks that pair when it builds the buffer.
    env: 'EVENTSTORE_MAX_BUFFER',
    file: { name: FILE, key: 'eventStore.maxBuffer' },
    default: 10_000,
    parse: int({ min: 1, max: 10_000_000 }),
  },
  watchIps: {
    env: 'CALCULATOR_WATCH_IPS',
    file: { name: FILE, key: 'watchIps' },
    optional: true,
    parse: watchList,
  },
  webhookUrl: {
    env: 'CALCULATOR_WEBHOOK_URL',
    file: { name: FILE, key: 'webhookUrl' },
    optional: true,
    parse: url(['http', 'https']),
  },
});

export type CalculatorSettings = SettingsOf<typeof calculatorSettings>;
