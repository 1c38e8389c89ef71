// The calculator's events as stored in its append-only log, correlated by request id.

export type CalculationMethod = 'summation' | 'factorial';

/** Which door a request came through. */
export type CalculationDoor = 'http' | 'grpc' | 'rpc';

export interface CalculationRequestedPayload {
  method: CalculationMethod;
  /** The inputs as received, int64 values as decimal strings. */
  input: Record<string, string>;
  clientIp: string;
  /** ISO-8601 time the request arrived. */
  at: string;
  instance: string;
  door?: CalculationDoor;
}

export interface CalculationCompletedPayload {
  /** Repeated from the request so the running total is a plain fold, with no need to correlate. */
  method: CalculationMethod;
  result: string;
}

export interface CalculationFailedPayload {
  method: CalculationMethod;
  code: string;
  message: string;
}

export interface ClientWatchedPayload {
  method: CalculationMethod;
  clientIp: string;
  /** The CALCULATOR_WATCH_IPS entry that matched. */
  rule: string;
}

export interface CalculatorEventPayloads {
  CalculationRequested: CalculationRequestedPayload;
  CalculationCompleted: CalculationCompletedPayload;
  CalculationFailed: CalculationFailedPayload;
  ClientWatched: ClientWatchedPayload;
}

export type CalculatorEventType = keyof CalculatorEventPayloads;

/** An event before it is stored. */
export type NewCalculatorEvent = {
  [T in CalculatorEventType]: {
    /** A UUID given when the event is created: a write retried after an ambiguous failure stores it once. */
    id: string;
    type: T;
    requestId: string;
    payload: CalculatorEventPayloads[T];
    /** When it happened, by the injected clock; stored as created_at. */
    createdAt: Date;
    /** Who appended it: role and host. */
    instance: string;
  };
}[CalculatorEventType];

/** An event read back from the log, with its place in the global sequence (a decimal string: bigserial). */
export type StoredCalculatorEvent = NewCalculatorEvent & { seq: string };
