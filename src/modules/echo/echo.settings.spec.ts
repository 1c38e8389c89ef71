import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, clearConfigFileCache, resolveSettings } from '../../platform/config/settings.js';
import { echoClientSettings, echoServerSettings } from './echo.settings.js';

const files = {
  server: 'port: 23456\nbacklog: 64\nidleTimeoutMs: 1000\nmaxLineBytes: 128\nlog:\n  level: WARNING\n',
  client: [
    'id: 3',
    'server:',
    '  address: "file-host:2000"',
    'loop:',
    '  lapse: "1m5s"',
    '  period: "250ms"',
    'expect: any',
    'log:',
    '  level: debug',
    '',
  ].join('\n'),
};

describe('echo settings', () => {
  let configDir: string;

  beforeEach(() => {
    configDir = mkdtempSync(join(tmpdir(), 'echo-settings-'));
    clearConfigFileCache();
  });
  afterEach(() => rmSync(configDir, { recursive: true, force: true }));

  const write = (name: string, text: string): void => writeFileSync(join(configDir, name), text);

  describe('echoServerSettings', () => {
    it('uses the defaults when neither env nor file sets a value', () => {
      expect(resolveSettings(echoServerSettings, { env: {}, configDir })).toEqual({
        port: 12345,
        backlog: 511,
        idleTimeoutMs: 300_000,
        maxLineBytes: 65_536,
        logLevel: 'info',
      });
    });

    it('takes config/echo-server.yaml over the defaults', () => {
      write('echo-server.yaml', files.server);
      expect(resolveSettings(echoServerSettings, { env: {}, configDir })).toEqual({
        port: 23456,
        backlog: 64,
        idleTimeoutMs: 1000,
        maxLineBytes: 128,
        logLevel: 'warn',
      });
    });

    it('takes the environment over the file', () => {
      write('echo-server.yaml', files.server);
      const env = {
        ECHO_PORT: '34567',
        ECHO_BACKLOG: '16',
        ECHO_IDLE_TIMEOUT_MS: '0',
        ECHO_MAX_LINE_BYTES: '10',
      };
      expect(resolveSettings(echoServerSettings, { env, configDir })).toMatchObject({
        port: 34567,
        backlog: 16,
        idleTimeoutMs: 0,
        maxLineBytes: 10,
      });
    });

    it("accepts the seed's SERVER_PORT and SERVER_LISTEN_BACKLOG as aliases", () => {
      const env = { SERVER_PORT: '4000', SERVER_LISTEN_BACKLOG: '8' };
      expect(resolveSettings(echoServerSettings, { env, configDir })).toMatchObject({
        port: 4000,
        backlog: 8,
      });
    });

    it('names every bad variable at once', () => {
      const env = { ECHO_PORT: '70000', ECHO_MAX_LINE_BYTES: 'lots' };
      expect(() => resolveSettings(echoServerSettings, { env, configDir })).toThrow(
        expect.objectContaining({
          problems: [expect.stringMatching(/^ECHO_PORT: /), expect.stringMatching(/^ECHO_MAX_LINE_BYTES: /)],
        }),
      );
    });
  });

  describe('echoClientSettings', () => {
    it('reads the seed keys from config/echo-client.yaml', () => {
      write('echo-client.yaml', files.client);
      expect(resolveSettings(echoClientSettings, { env: {}, configDir })).toEqual({
        id: '3',
        serverAddress: { host: 'file-host', port: 2000 },
        loopLapseMs: 65_000,
        loopPeriodMs: 250,
        expect: 'any',
        logLevel: 'debug',
      });
    });

    it('takes CLI_* variables over the file', () => {
      write('echo-client.yaml', files.client);
      const env = {
        CLI_ID: '9',
        CLI_SERVER_ADDRESS: 'env-host:3000',
        CLI_LOOP_LAPSE: '2s',
        CLI_LOOP_PERIOD: '10ms',
        CLI_LOG_LEVEL: 'error',
        CLI_EXPECT: 'ECHO',
      };
      expect(resolveSettings(echoClientSettings, { env, configDir })).toEqual({
        id: '9',
        serverAddress: { host: 'env-host', port: 3000 },
        loopLapseMs: 2000,
        loopPeriodMs: 10,
        expect: 'echo',
        logLevel: 'error',
      });
    });

    it('accepts ECHO_SERVER_ADDR, the peer convention of the deployment files, below CLI_SERVER_ADDRESS', () => {
      write('echo-client.yaml', files.client);
      const resolve = (env: Record<string, string>) =>
        resolveSettings(echoClientSettings, { env, configDir }).serverAddress;
      expect(resolve({ ECHO_SERVER_ADDR: 'peer-host:12345' })).toEqual({ host: 'peer-host', port: 12345 });
      expect(resolve({ ECHO_SERVER_ADDR: 'peer-host:12345', CLI_SERVER_ADDRESS: 'cli-host:1' })).toEqual({
        host: 'cli-host',
        port: 1,
      });
    });

    it('falls back to the defaults for keys the file leaves out, and requires an id', () => {
      write('echo-client.yaml', 'id: 4\n');
      expect(resolveSettings(echoClientSettings, { env: {}, configDir })).toEqual({
        id: '4',
        serverAddress: { host: 'echo-server', port: 12345 },
        loopLapseMs: 60_000,
        loopPeriodMs: 5_000,
        expect: 'echo',
        logLevel: 'info',
      });
      write('echo-client.yaml', '{}\n');
      clearConfigFileCache();
      expect(() => resolveSettings(echoClientSettings, { env: {}, configDir })).toThrow('CLI_ID is required');
    });

    it('rejects a CLI_EXPECT other than echo or any', () => {
      const env = { CLI_ID: '1', CLI_EXPECT: 'exact' };
      expect(() => resolveSettings(echoClientSettings, { env, configDir })).toThrow(
        /CLI_EXPECT: must be one of echo, any \(got "exact"\)/,
      );
    });

    it('rejects an invalid duration from the environment, naming the variable', () => {
      const env = { CLI_ID: '1', CLI_LOOP_PERIOD: '5 seconds' };
      expect(() => resolveSettings(echoClientSettings, { env, configDir })).toThrow(
        /CLI_LOOP_PERIOD: invalid duration "5 seconds"/,
      );
    });

    it('rejects an invalid duration from the file, naming the file key', () => {
      write('echo-client.yaml', 'id: 1\nloop:\n  lapse: 10\n');
      let error: unknown;
      try {
        resolveSettings(echoClientSettings, { env: {}, configDir });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([
        expect.stringContaining(
          'CLI_LOOP_LAPSE (config/echo-client.yaml: loop.lapse): invalid duration "10"',
        ),
      ]);
    });
  });

  it('ships config files that resolve cleanly', () => {
    const shipped = { env: {}, configDir: resolve('config') };
    expect(resolveSettings(echoServerSettings, shipped).port).toBe(12345);
    expect(resolveSettings(echoClientSettings, shipped)).toMatchObject({
      id: '1',
      serverAddress: { host: 'echo-server', port: 12345 },
      loopLapseMs: 124_000,
    });
  });
});
