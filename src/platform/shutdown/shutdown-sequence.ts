// Graceful shutdown as one mechanism: resources register as they open and close in reverse order, each logged,
// all within one grace budget. A step that fails is logged and the rest still close (the exit code turns 1); a
// step still running when the budget ends is named in the log and the process exits 1.
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { flushLogs } from '../logging/logger.js';

export interface ShutdownOptions {
  graceMs: number;
  log: Logger;
  /** Ends the process; the default writes out the logs, then exits. */
  exit?: (code: number) => void | Promise<void>;
}

interface Step {
  name: string;
  close: () => unknown;
}

export class ShutdownSequence {
  private readonly steps: Step[] = [];
  private readonly beginHooks: (() => unknown)[] = [];
  private running?: Promise<void>;

  constructor(private readonly options: ShutdownOptions) {}

  /** Registers a resource as it opens; shutdown closes the last registered first and logs `closed <name>`. */
  add(name: string, close: () => unknown): void {
    this.steps.push({ name, close });
  }

  /** Runs first when shutdown starts, in the order given (turning readiness false, the drain delay). */
  onBegin(hook: () => unknown): void {
    this.beginHooks.push(hook);
  }

  get started(): boolean {
    return this.running !== undefined;
  }

  /** Runs the sequence once; later calls wait for the first. Ends by calling exit with `code` (1 if a step failed). */
  run(reason: string, code: number): Promise<void> {
    this.running ??= this.closeAll(reason, code);
    return this.running;
  }

  /** SIGTERM and SIGINT shut down with exit code 0; an uncaught exception with 1. */
  handleSignals(): void {
    process.once('SIGTERM', () => void this.run('SIGTERM', 0));
    process.once('SIGINT', () => void this.run('SIGINT', 0));
    process.on('uncaughtException', (err) => {
      this.options.log.fatal({ err }, 'uncaught exception');
      void this.run('uncaught exception', 1);
    });
  }

  private async closeAll(reason: string, code: number): Promise<void> {
    const { log, graceMs } = this.options;
    log.info({ reason }, 'shutdown started');
    const pending = this.steps.map((s) => s.name).reverse();
    const budget = new AbortController();
    const overrun = delay(graceMs, undefined, { signal: budget.signal, ref: false }).then(
      () => {
        log.error({ graceMs, pending }, 'shutdown grace period exceeded; exiting');
        return 1;
      },
      () => undefined,
    );
    const sequence = (async () => {
      let failed = false;
      for (const hook of this.beginHooks) {
        try {
          await hook();
        } catch (err) {
          failed = true;
          log.error({ err }, 'shutdown hook failed');
        }
      }
      for (const step of [...this.steps].reverse()) {
        const began = performance.now();
        try {
          await step.close();
          log.info({ ms: Math.round(performance.now() - began) }, `closed ${step.name}`);
        } catch (err) {
          failed = true;
          log.error({ err }, `could not close ${step.name}`);
        }
        pending.shift();
      }
      log.info(
        { exitCode: failed ? 1 : code },
        failed ? 'shutdown finished with errors' : 'shutdown complete',
      );
      return failed ? 1 : code;
    })();
    const exitCode = await Promise.race([sequence, overrun.then((c) => c ?? sequence)]);
    budget.abort();
    await (this.options.exit ?? exitProcess)(exitCode);
  }
}

async function exitProcess(code: number): Promise<void> {
  await flushLogs(code === 0 ? undefined : 200);
  process.exit(code);
}
