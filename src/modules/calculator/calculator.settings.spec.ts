import { ConfigError, resolveSettings } from '../../platform/config/settings.js';
import { calculatorSettings } from './calculator.settings.js';

const noConfigDir = '/nonexistent-config-dir';
const resolve = (env: Record<string, string>) =>
  resolveSettings(calculatorSettings, { env, configDir: noConfigDir });

describe('calculatorSettings', () => {
  it('has the documented defaults', () => {
    expect(resolve({})).toEqual({
      grpcPort: 50051,
      grpcHost: '0.0.0.0',
      eventStoreFlushMs: 50,
      eventStoreBatchSize: 500,
      eventStoreMaxBuffer: 10_000,
      watchIps: undefined,
      webhookUrl: undefined,
    });
  });

  it("accepts the original's ORI_PORT for the gRPC port", () => {
    expect(resolve({ ORI_PORT: '6000' }).grpcPort).toBe(6000);
  });

  it('prefers GRPC_PORT over ORI_PORT', () => {
    expect(resolve({ GRPC_PORT: '7000', ORI_PORT: '6000' }).grpcPort).toBe(7000);
  });

  it('reads the watch list and the webhook', () => {
    expect(
      resolve({
        CALCULATOR_WATCH_IPS: '127.0.0.1, 10.0.0.0/8',
        CALCULATOR_WEBHOOK_URL: 'http://127.0.0.1:9/hook',
      }),
    ).toMatchObject({ watchIps: ['127.0.0.1', '10.0.0.0/8'], webhookUrl: 'http://127.0.0.1:9/hook' });
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      resolve({ GRPC_PORT: 'x', EVENTSTORE_FLUSH_MS: '-1', CALCULATOR_WATCH_IPS: '10.0.0.0/33' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      expect.stringMatching(/^GRPC_PORT/),
      expect.stringMatching(/^EVENTSTORE_FLUSH_MS/),
      expect.stringMatching(/^CALCULATOR_WATCH_IPS: "10.0.0.0\/33" has an invalid prefix length/),
    ]);
  });
});
