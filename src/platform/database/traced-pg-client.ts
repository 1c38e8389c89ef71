// The pg client every pool of the platform uses (TypeORM's and, through it, the event store's): a CLIENT span per
// SQL statement, by the database semantic conventions, for statements run inside a traced request. Handed to the
// pool through pg-pool's public `Client` option; statements outside any request (the outbox's polling) stay untraced
// rather than each starting a trace of its own.
import { SpanKind, SpanStatusCode, context, trace, type Span } from '@opentelemetry/api';
import {
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_QUERY_SUMMARY,
  ATTR_DB_QUERY_TEXT,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  DB_SYSTEM_NAME_VALUE_POSTGRESQL,
} from '@opentelemetry/semantic-conventions';
import pg from 'pg';
import { platformTracer } from '../tracing/tracing.js';

type Callback = (err: Error | null, result?: unknown) => void;

/** The statement's first keyword (SELECT, WITH, INSERT, ...): its operation, and the span's name. */
export function operationOf(text: string): string {
  const match = /^\s*([A-Za-z]+)/.exec(text);
  return match ? match[1].toUpperCase() : 'SQL';
}

function startStatementSpan(config: unknown): Span | undefined {
  const parent = trace.getSpan(context.active());
  if (!parent?.isRecording()) return undefined;
  const text = typeof config === 'string' ? config : (config as { text?: unknown })?.text;
  if (typeof text !== 'string') return undefined;
  const operation = operationOf(text);
  // A named (prepared) statement is summarised by its name, which says what it does.
  const name = (config as { name?: unknown })?.name;
  const summary = typeof name === 'string' ? name : operation;
  const span = platformTracer().startSpan(summary, { kind: SpanKind.CLIENT });
  span.setAttribute(ATTR_DB_SYSTEM_NAME, DB_SYSTEM_NAME_VALUE_POSTGRESQL);
  span.setAttribute(ATTR_DB_OPERATION_NAME, operation);
  span.setAttribute(ATTR_DB_QUERY_SUMMARY, summary);
  span.setAttribute(ATTR_DB_QUERY_TEXT, text);
  return span;
}

function endStatementSpan(span: Span, err: Error | null | undefined): void {
  if (err) {
    span.setAttribute(ATTR_ERROR_TYPE, (err as { code?: string }).code ?? err.name);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
  }
  span.end();
}

export class TracedPgClient extends pg.Client {
  override query(...args: unknown[]): any {
    const [config, values, callback] = args;
    const span =
      config && typeof (config as { submit?: unknown }).submit !== 'function'
        ? startStatementSpan(config)
        : undefined;
    const run = super.query as (...a: unknown[]) => unknown;
    if (!span) return run.apply(this, args);
    if (typeof values === 'function') {
      return run.call(this, config, (err: Error | null, res: unknown) => {
        endStatementSpan(span, err);
        (values as Callback)(err, res);
      });
    }
    if (typeof callback === 'function') {
      return run.call(this, config, values, (err: Error | null, res: unknown) => {
        endStatementSpan(span, err);
        (callback as Callback)(err, res);
      });
    }
    return (run.call(this, config, values) as Promise<unknown>).then(
      (res) => {
        endStatementSpan(span, null);
        return res;
      },
      (err: Error) => {
        endStatementSpan(span, err);
        throw err;
      },
    );
  }
}
