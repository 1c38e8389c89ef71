// A BootContext for unit specs: the platform defaults plus the given module settings.
import { BootContext } from '../../src/platform/boot-context.js';
import { resolveSettings, type SettingsOf, type SettingsSchema } from '../../src/platform/config/settings.js';
import { platformSettings } from '../../src/platform/platform.settings.js';

export function testBoot(
  modules: Array<[SettingsSchema, Record<string, unknown>]>,
  env: Record<string, string> = {},
): BootContext {
  const source = { env, configDir: '/nonexistent' };
  const values = new Map<SettingsSchema, unknown>();
  const platform = resolveSettings(platformSettings, source) as SettingsOf<typeof platformSettings>;
  values.set(platformSettings, platform);
  for (const [schema, overrides] of modules)
    values.set(schema, { ...resolveSettings(schema, source), ...overrides });
  return new BootContext([], [], platform, values, new Map(), undefined, 'test');
}
