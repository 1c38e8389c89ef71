import { isValidSpanId, isValidTraceId } from '@opentelemetry/api';
import { PooledIdGenerator } from './pooled-ids.js';

describe('PooledIdGenerator', () => {
  it('hands out valid, distinct trace and span ids across many refills of its block', () => {
    const ids = new PooledIdGenerator();
    const seen = new Set<string>();
    // 16 KiB of randomness is 32768 hex characters: 20000 ids of 16 and 32 characters cross a dozen refills.
    for (let i = 0; i < 10_000; i++) {
      const traceId = ids.generateTraceId();
      const spanId = ids.generateSpanId();
      expect(isValidTraceId(traceId)).toBe(true);
      expect(isValidSpanId(spanId)).toBe(true);
      seen.add(traceId);
      seen.add(spanId);
    }
    expect(seen.size).toBe(20_000);
  });

  it('uses every hex digit in every position (the ids are random, not a counter)', () => {
    const ids = new PooledIdGenerator();
    const digits = Array.from({ length: 32 }, () => new Set<string>());
    for (let i = 0; i < 2000; i++) [...ids.generateTraceId()].forEach((c, at) => digits[at].add(c));
    for (const at of digits) expect(at.size).toBe(16);
  });
});
