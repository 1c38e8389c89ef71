// The development default's root sampler: every new trace while they come at a reader's pace, at most `perSecond`
// of them under load. OpenTelemetry JS ships no rate-limiting sampler (only always-on/off and the trace-id ratio);
// this is Jaeger's and X-Ray's "so many per second" rule on the SDK's public Sampler interface.
import type { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import { SamplingDecision, type Sampler, type SamplingResult } from '@opentelemetry/sdk-trace';

const SAMPLED: SamplingResult = Object.freeze({ decision: SamplingDecision.RECORD_AND_SAMPLED });
const DROPPED: SamplingResult = Object.freeze({ decision: SamplingDecision.NOT_RECORD });

/** A token bucket holding up to `perSecond` tokens, refilled at `perSecond` a second; a sampled trace takes one. */
export class RateLimitedSampler implements Sampler {
  private tokens: number;
  private last: number;

  constructor(
    readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(perSecond > 0)) throw new Error('RateLimitedSampler needs a positive rate');
    this.tokens = perSecond;
    this.last = now();
  }

  shouldSample(
    _context: Context,
    _traceId: string,
    _name: string,
    _kind: SpanKind,
    _attributes: Attributes,
    _links: Link[],
  ): SamplingResult {
    const now = this.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.last) * this.perSecond) / 1000);
    this.last = now;
    if (this.tokens < 1) return DROPPED;
    this.tokens -= 1;
    return SAMPLED;
  }

  toString(): string {
    return `RateLimitedSampler{${this.perSecond}/s}`;
  }
}
