// One calculation, whichever door it came through: compute it, then append CalculationRequested, ClientWatched
// (for a watched address) and CalculationCompleted or CalculationFailed as one contiguous group. The answer goes
// back only once the events are accepted by the log (a full buffer makes the request wait; never drops them).
import { isoString } from '../../platform/clock.js';
import { AppError } from '../../platform/errors/app-error.js';
import {
  computeFactorial,
  computeSummation,
  parseInt64,
  type FactorialInput,
  type FactorialResult,
  type SummationInput,
  type SummationResult,
} from './calculator.math.js';
import type {
  CalculationDoor,
  CalculationMethod,
  CalculatorEventPayloads,
  CalculatorEventType,
  NewCalculatorEvent,
} from './event-store/calculator-event.types.js';
import type { WatchedIpMatcher } from './watched-ip.matcher.js';

export interface CallOrigin {
  door: CalculationDoor;
  clientIp: string;
  requestId: string;
}

/** What a watched client's request tells the reactors (log, SSE, webhook). */
export interface WatchedClientNotice {
  type: 'ClientWatched';
  requestId: string;
  method: CalculationMethod;
  clientIp: string;
  rule: string;
  door: CalculationDoor;
  at: string;
  instance: string;
}

export interface CalculateDeps {
  /** The event log's append: resolves once the events are accepted (buffered, or stored when writing through). */
  append(...events: NewCalculatorEvent[]): Promise<void>;
  now(): Date;
  newId(): string;
  /** Role and host, stored with every event. */
  instance: string;
  watch?: WatchedIpMatcher;
  /** Called after a watched client's events are accepted; must not block. */
  onWatched?(notice: WatchedClientNotice): void;
}

/**
 * Every event built with the same keys in the same order, so the buffer and the store read one shape. Spreading a
 * shared `common` object gave a requested and a completed event different hidden classes, and new ones over time:
 * the use case took 6.4 µs per call instead of 2.3, and the role 64.5 µs of CPU per gRPC call instead of 51.8.
 */
function newEvent<T extends CalculatorEventType>(
  id: string,
  type: T,
  requestId: string,
  payload: CalculatorEventPayloads[T],
  createdAt: Date,
  instance: string,
): NewCalculatorEvent {
  return { id, type, requestId, payload, createdAt, instance } as NewCalculatorEvent;
}

/** The input as received, int64 values normalised to decimal strings where they parse. */
function recordedInput(input: object, fields: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field of fields) {
    const value = (input as Record<string, unknown> | undefined)?.[field];
    try {
      out[field] = parseInt64(value, field).toString();
    } catch {
      out[field] = String(value);
    }
  }
  return out;
}

export class CalculateUseCase {
  constructor(private readonly deps: CalculateDeps) {}

  summation(input: SummationInput, origin: CallOrigin): Promise<SummationResult> {
    return this.run('summation', recordedInput(input, ['first', 'last']), origin, () =>
      computeSummation(input),
    );
  }

  factorial(input: FactorialInput, origin: CallOrigin): Promise<FactorialResult> {
    return this.run('factorial', recordedInput(input, ['base']), origin, () => computeFactorial(input));
  }

  private async run<R extends { result: string }>(
    method: CalculationMethod,
    input: Record<string, string>,
    origin: CallOrigin,
    compute: () => R,
  ): Promise<R> {
    const { deps } = this;
    const createdAt = deps.now();
    const at = isoString(createdAt);
    const event = <T extends CalculatorEventType>(type: T, payload: CalculatorEventPayloads[T]) =>
      newEvent(deps.newId(), type, origin.requestId, payload, createdAt, deps.instance);
    const events: NewCalculatorEvent[] = [
      event('CalculationRequested', {
        method,
        input,
        clientIp: origin.clientIp,
        at,
        instance: deps.instance,
        door: origin.door,
      }),
    ];
    const rule = deps.watch?.match(origin.clientIp);
    if (rule !== undefined) {
      events.push(event('ClientWatched', { method, clientIp: origin.clientIp, rule }));
    }

    let result: R | undefined;
    let failure: unknown;
    try {
      result = compute();
      events.push(event('CalculationCompleted', { method, result: result.result }));
    } catch (err) {
      failure = err;
      const known = err instanceof AppError;
      events.push(
        event('CalculationFailed', {
          method,
          code: known ? err.code : 'INTERNAL',
          message: known ? err.message : 'internal error',
        }),
      );
    }

    await deps.append(...events);
    if (rule !== undefined) {
      deps.onWatched?.({
        type: 'ClientWatched',
        requestId: origin.requestId,
        method,
        clientIp: origin.clientIp,
        rule,
        door: origin.door,
        at,
        instance: deps.instance,
      });
    }
    if (failure !== undefined) throw failure;
    return result!;
  }
}
