import { AppError } from '../../platform/errors/app-error.js';
import { isTransient } from './retry.policy.js';

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
