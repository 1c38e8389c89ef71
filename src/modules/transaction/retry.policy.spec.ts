import { AppError } from '../../platform/errors/app-error.js';
import { backoffMs, isTransient } from './retry.policy.js';

describe('isTransient', () => {
  it.each([
    [new AppError(503, 'peer_unavailable', 'psp is unavailable'), true],
    [new AppError(504, 'rpc_timeout', 'timed out'), true],
    [new AppError(500, 'internal', 'Internal error'), true],
    [new AppError(429, 'busy', 'slow down'), true],
    [new AppError(400, 'validation_failed', 'bad order'), false],
    [new AppError(422, 'invalid_amount', 'Amount must be greater than 0'), false],
    [new Error('socket hang up'), true],
  ])('%s -> %s', (err, transient) => {
    expect(isTransient(err)).toBe(transient);
  });
});

describe('backoffMs', () => {
  const top = () => 0.999999;
  it('doubles from the minimum per attempt', () => {
    expect([1, 2, 3, 4].map((a) => backoffMs(a, 100, 10_000, top))).toEqual([100, 200, 400, 800]);
  });
  it('never exceeds the maximum', () => {
    expect(backoffMs(50, 100, 10_000, top)).toBe(10_000);
  });
  it('never waits less than half the minimum', () => {
    expect(backoffMs(3, 100, 10_000, () => 0)).toBe(50);
  });
});
