// The checks of POST /transaction/transaction on a loose JSON body, in the original's order and with its
// messages (422, message in `detail`), plus the fixes: a non-numeric amount is a 422, not a 500, and amounts
// are exact decimals with at most two places.
import { createHash } from 'node:crypto';
import { Decimal } from 'decimal.js';
import { AppError } from '../../platform/errors/app-error.js';

export interface TransactionRequest {
  token: string;
  amount: Decimal;
  currency: string;
}

/** Largest amount accepted: fits numeric(14,2) and stays exact as a JSON number. */
export const MAX_AMOUNT = new Decimal('999999999999.99');

const PLAIN_DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const CURRENCY = /^[A-Z]{3}$/;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

const unprocessable = (code: string, message: string) => new AppError(422, code, message);

function isBlank(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

export function bearerToken(authorization: unknown): string | undefined {
  if (typeof authorization !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return m?.[1];
}

function parseAmount(raw: unknown): Decimal {
  if (isBlank(raw)) throw unprocessable('amount_blank', 'Amount is blank');
  let text: string;
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) throw unprocessable('amount_not_a_number', 'Amount must be a number');
    text = String(raw);
  } else if (typeof raw === 'string' && PLAIN_DECIMAL.test(raw.trim())) {
    text = raw.trim();
  } else {
    throw unprocessable('amount_not_a_number', 'Amount must be a number');
  }
  const amount = new Decimal(text);
  if (amount.lte(0)) throw unprocessable('amount_blank', 'Amount is blank');
  if (amount.decimalPlaces() > 2)
    throw unprocessable('amount_precision', 'Amount must have at most 2 decimal places');
  if (amount.gt(MAX_AMOUNT)) throw unprocessable('amount_too_large', `Amount must be at most ${MAX_AMOUNT}`);
  return amount;
}

/**
 * Token (body, else `Authorization: Bearer`), amount, currency — each failure a 422 with the original's text. A
 * body token and a different header token are a 400: which one the request speaks for is not guessed.
 */
export function parseTransactionRequest(body: unknown, authorization?: unknown): TransactionRequest {
  const b =
    body !== null && typeof body === 'object' && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : {};
  const inBody = typeof b.token === 'string' && b.token.trim() !== '' ? b.token.trim() : undefined;
  const inHeader = bearerToken(authorization);
  if (inBody !== undefined && inHeader !== undefined && inBody !== inHeader)
    throw new AppError(400, 'token_conflict', 'The body token and the Authorization token differ; send one');
  const token = inBody ?? inHeader;
  if (!token) throw unprocessable('token_blank', 'Token is blank');
  const amount = parseAmount(b.amount);
  if (isBlank(b.currency)) throw unprocessable('currency_blank', 'Currency is blank');
  if (typeof b.currency !== 'string' || !CURRENCY.test(b.currency))
    throw unprocessable('invalid_currency', 'Invalid currency code');
  return { token, amount, currency: b.currency };
}

/** Absent: undefined. Present: 1-255 visible ASCII characters. */
export function parseIdempotencyKey(raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !IDEMPOTENCY_KEY.test(raw))
    throw unprocessable('invalid_idempotency_key', 'Idempotency-Key must be 1-255 visible ASCII characters');
  return raw;
}

/** What "the same body" means for an Idempotency-Key: the same amount (to the cent) and currency. */
export function requestHash(req: Pick<TransactionRequest, 'amount' | 'currency'>): string {
  return createHash('sha256')
    .update(`${req.amount.toFixed(2)}|${req.currency}`)
    .digest('hex');
}
