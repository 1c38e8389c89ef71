import { ROOT_CONTEXT, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { ParentBasedSampler, SamplingDecision } from '@opentelemetry/sdk-trace';
import { RateLimitedSampler } from './rate-limited-sampler.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('RateLimitedSampler', () => {
  // A clock the test moves: the decisions depend on elapsed time only, never on how fast the test runs.
  let ms = 0;
  const clock = () => ms;
  const decide = (s: { shouldSample: RateLimitedSampler['shouldSample'] }, ctx = ROOT_CONTEXT) =>
    s.shouldSample(ctx, TRACE, 'POST /exchange', SpanKind.SERVER, {}, []).decision;
  const burst = (s: RateLimitedSampler, n: number) =>
    Array.from({ length: n }, () => decide(s)).filter((d) => d === SamplingDecision.RECORD_AND_SAMPLED)
      .length;

  beforeEach(() => (ms = 1_000_000));

  it('samples every trace up to its rate, then none until time refills it', () => {
    const sampler = new RateLimitedSampler(100, clock);
    expect(burst(sampler, 250)).toBe(100);
    ms += 10; // a hundredth of a second: one more
    expect(burst(sampler, 5)).toBe(1);
    ms += 500;
    expect(burst(sampler, 100)).toBe(50);
    ms += 60_000; // a quiet minute banks no more than one second's worth
    expect(burst(sampler, 1000)).toBe(100);
  });

  it('samples every trace at a reader pace', () => {
    const sampler = new RateLimitedSampler(100, clock);
    for (let i = 0; i < 1000; i++) {
      ms += 20; // 50 a second
      expect(decide(sampler)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    }
  });

  it("as a parent-based root, never overrides a caller's sampled trace", () => {
    const sampler = new RateLimitedSampler(1, clock);
    const parentBased = new ParentBasedSampler({ root: sampler });
    const caller = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: TRACE,
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    expect(decide(parentBased)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(parentBased)).toBe(SamplingDecision.NOT_RECORD);
    for (let i = 0; i < 10; i++)
      expect(decide(parentBased, caller)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it('refuses a rate that is not positive', () => {
    for (const rate of [0, -1, Number.NaN])
      expect(() => new RateLimitedSampler(rate)).toThrow(/positive rate/);
  });
});
