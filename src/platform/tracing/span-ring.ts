// The role's recent spans, kept in memory for the operations console. A placeholder that keeps nothing: the ring
// itself comes with the console's traces view.
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';

export class SpanRing implements SpanProcessor {
  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(_span: ReadableSpan): void {}

  /** The spans kept, newest last. */
  recent(): ReadableSpan[] {
    return [];
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
