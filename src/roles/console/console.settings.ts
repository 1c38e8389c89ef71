// Where the console finds the other roles of a multi-role deployment, and how long it waits for each.
import { int, url } from '../../platform/config/parsers.js';
import { defineSettings, type SettingsOf } from '../../platform/config/settings.js';

function urlList(): (raw: unknown) => string[] {
  const one = url(['http', 'https']);
  return (raw) => {
    const list = String(raw)
      .split(',')
      .map((u) => u.trim().replace(/\/+$/, ''))
      .filter(Boolean);
    if (list.length === 0) throw new Error('must list at least one http(s) URL');
    return list.map(one);
  };
}

export const consoleSettings = defineSettings({
  /** HTTP base URLs of the other roles; unset: http://<role>:3000 for every role not booted here. */
  targets: { env: 'CONSOLE_TARGETS', optional: true, parse: urlList() },
  /** Bound on each fetch of another role's /about, /health/ready, /metrics and module figures. */
  fetchTimeoutMs: { env: 'CONSOLE_FETCH_TIMEOUT_MS', default: 1500, parse: int({ min: 50, max: 60_000 }) },
});

export type ConsoleSettings = SettingsOf<typeof consoleSettings>;
