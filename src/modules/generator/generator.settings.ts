import { defineSettings } from '../../platform/config/settings.js';
import { int } from '../../platform/config/parsers.js';

export const generatorSettings = defineSettings({
  /** > 0: push a random conversion to the exchange on this period (the seed's "more reactive approach"). */
  tickMs: { env: 'GENERATOR_TICK_MS', default: 0, parse: int({ min: 0 }) },
});
