// Trace and span ids cut from one block of random hex. The SDK's default generator allocates a buffer, fills it with
// Math.random() four bytes at a time and hex-encodes it, for every id: two of them per span. Here 16 KiB come from the
// system's CSPRNG at once, are hex-encoded once, and each id is a slice of that string (no copy): per span, two
// slices and an index bump. The ids are as random as the kernel's generator (better than Math.random()), which is
// what the trace-id ratio sampler and the W3C "random" expectation for trace ids rely on.
import { randomFillSync } from 'node:crypto';
import type { IdGenerator } from '@opentelemetry/sdk-trace';

// A slice keeps its block's string alive while the span holds it: with the console's slowest set (32 spans kept up to
// ten minutes) that bounds what ids can pin at about 1 MiB; 16 KiB still makes a refill rare (one per ~340 spans).
const BLOCK_BYTES = 16_384;
const ZERO_SPAN = '0000000000000000';
const ZERO_TRACE = ZERO_SPAN + ZERO_SPAN;

export class PooledIdGenerator implements IdGenerator {
  private readonly bytes = Buffer.allocUnsafe(BLOCK_BYTES);
  private hex = '';
  private at = 0;

  generateTraceId(): string {
    const id = this.take(32);
    // All zeros is the one invalid value (a 2^-128 chance, but an invalid id would drop the trace).
    return id === ZERO_TRACE ? this.generateTraceId() : id;
  }

  generateSpanId(): string {
    const id = this.take(16);
    return id === ZERO_SPAN ? this.generateSpanId() : id;
  }

  private take(chars: number): string {
    if (this.at + chars > this.hex.length) {
      this.hex = randomFillSync(this.bytes).toString('hex');
      this.at = 0;
    }
    const id = this.hex.slice(this.at, this.at + chars);
    this.at += chars;
    return id;
  }
}
