// Modules add what their readiness depends on (a buffer that cannot flush, a listener not yet open) here;
// the platform adds the database and the peers.
import { Injectable } from '@nestjs/common';

export type ReadinessCheck = (signal: AbortSignal) => Promise<Record<string, unknown> | void>;

@Injectable()
export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();

  register(key: string, check: ReadinessCheck): void {
    this.checks.set(key, check);
  }

  entries(): Array<[string, ReadinessCheck]> {
    return [...this.checks.entries()];
  }
}
