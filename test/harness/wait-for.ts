// The one way a test waits: polls a condition (never sleeping a fixed time) and gives up after a generous bound.

export interface WaitOptions {
  /** Gives up after this long (default 10 s). */
  limitMs?: number;
  /** Pause between two looks (default 10 ms; a probe that costs a request deserves more). */
  everyMs?: number;
}

/**
 * Polls `probe` until it answers: `true`, or any value other than `undefined`, `null` and `false`, which it
 * returns. A probe that throws counts as "not yet" (a server still starting); when the wait gives up, its message
 * names what it waited for and the last error seen.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  what: string,
  options: WaitOptions | number = {},
): Promise<Exclude<T, undefined | null | false>> {
  const { limitMs = 10_000, everyMs = 10 } = typeof options === 'number' ? { limitMs: options } : options;
  const deadline = Date.now() + limitMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false)
        return value as Exclude<T, undefined | null | false>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const cause =
        lastError === undefined ? '' : ` (last error: ${(lastError as Error).message ?? lastError})`;
      throw new Error(`timed out after ${limitMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
