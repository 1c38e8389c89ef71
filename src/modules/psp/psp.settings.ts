// PSP connector settings.
import { int } from '../../platform/config/parsers.js';
import { defineSettings } from '../../platform/config/settings.js';

export const pspSettings = defineSettings({
  /** Simulated provider latency per payment, to exercise the dispatcher against a slow PSP. */
  delayMs: { env: 'PSP_DELAY_MS', default: 0, parse: int({ min: 0, max: 60_000 }) },
});
