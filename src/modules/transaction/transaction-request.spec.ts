import {
  bearerToken,
  parseIdempotencyKey,
  parseTransactionRequest,
  requestHash,
} from './transaction-request.js';

const token = 'header.payload.signature';
const valid = { amount: 100, currency: 'USD', token };

describe('parseTransactionRequest', () => {
  it.each([
    [{ amount: 100, currency: 'USD' }, 'Token is blank'],
    [{ ...valid, token: ' ' }, 'Token is blank'],
    [{ currency: 'USD', token }, 'Amount is blank'],
    [{ ...valid, amount: '' }, 'Amount is blank'],
    [{ ...valid, amount: 0 }, 'Amount is blank'],
    [{ ...valid, amount: '-5' }, 'Amount is blank'],
    [{ ...valid, amount: 'abc' }, 'Amount must be a number'],
    [{ ...valid, amount: '1e3' }, 'Amount must be a number'],
    [{ ...valid, amount: true }, 'Amount must be a number'],
    [{ ...valid, amount: { value: 1 } }, 'Amount must be a number'],
    [{ ...valid, amount: '1.005' }, 'Amount must have at most 2 decimal places'],
    [{ ...valid, amount: 0.001 }, 'Amount must have at most 2 decimal places'],
    [{ ...valid, amount: '1000000000000' }, 'Amount must be at most 999999999999.99'],
    [{ amount: 1, token }, 'Currency is blank'],
    [{ ...valid, currency: '' }, 'Currency is blank'],
    [{ ...valid, currency: 'usd' }, 'Invalid currency code'],
    [{ ...valid, currency: 'USDT' }, 'Invalid currency code'],
    [{ ...valid, currency: 840 }, 'Invalid currency code'],
  ])('answers %j with 422 %s', (body, detail) => {
    expect(() => parseTransactionRequest(body)).toThrow(
      expect.objectContaining({ status: 422, message: detail }),
    );
  });

  it('checks in the original order: token, then amount, then currency', () => {
    expect(() => parseTransactionRequest({})).toThrow('Token is blank');
    expect(() => parseTransactionRequest({ token })).toThrow('Amount is blank');
    expect(() => parseTransactionRequest({ token, amount: 1 })).toThrow('Currency is blank');
  });

  it.each([[100], ['100'], ['100.00'], [' 100 ']])('accepts amount %j as exactly 100', (amount) => {
    const req = parseTransactionRequest({ ...valid, amount });
    expect(req.amount.toFixed(2)).toBe('100.00');
  });

  it('keeps cents exact', () => {
    expect(parseTransactionRequest({ ...valid, amount: '0.07' }).amount.toFixed(2)).toBe('0.07');
    expect(parseTransactionRequest({ ...valid, amount: 19.99 }).amount.toFixed(2)).toBe('19.99');
  });

  it('takes the token from Authorization: Bearer when the body has none', () => {
    expect(parseTransactionRequest({ amount: 1, currency: 'EUR' }, `Bearer ${token}`).token).toBe(token);
  });

  it('takes the same token in both places', () => {
    expect(parseTransactionRequest(valid, `Bearer ${token}`).token).toBe(token);
  });

  it('refuses a body token and a different Authorization token with 400 token_conflict', () => {
    expect(() => parseTransactionRequest(valid, 'Bearer other.token.here')).toThrow(
      expect.objectContaining({ status: 400, code: 'token_conflict' }),
    );
  });
});

describe('bearerToken', () => {
  it('reads a Bearer credential, case-insensitively', () => {
    expect(bearerToken(`bearer ${token}`)).toBe(token);
  });
  it('ignores other schemes', () => {
    expect(bearerToken(`Basic ${token}`)).toBeUndefined();
  });
});

describe('parseIdempotencyKey', () => {
  it('passes a visible-ASCII key and no key', () => {
    expect(parseIdempotencyKey('order-42')).toBe('order-42');
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
  });
  it.each(['', 'has space', 'x'.repeat(256)])('refuses %j', (key) => {
    expect(() => parseIdempotencyKey(key)).toThrow(expect.objectContaining({ status: 422 }));
  });
});

describe('requestHash', () => {
  it('is the same for "100" and 100.00 and differs by currency', () => {
    const a = requestHash(parseTransactionRequest({ ...valid, amount: '100' }));
    const b = requestHash(parseTransactionRequest({ ...valid, amount: 100.0 }));
    const c = requestHash(parseTransactionRequest({ ...valid, currency: 'EUR' }));
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });
});
