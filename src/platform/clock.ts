// Time and randomness as injectable providers, so tests can fix a clock or a seed instead of sleeping.
import { Injectable } from '@nestjs/common';

@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}

@Injectable()
export class Random {
  /** Uniform in [0, 1). */
  next(): number {
    return Math.random();
  }

  /** Uniform integer in [min, max). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min));
  }
}
