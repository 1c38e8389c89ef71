// Input of a conversion, for POST bodies, GET queries (or GET bodies) and the exchange.convert pattern alike.
import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, ValidateBy, type ValidationArguments } from 'class-validator';
import { AppError, type FieldProblem } from '../../../platform/errors/app-error.js';

const DECIMAL = /^\s*(\d+(\.\d*)?|\.\d+)\s*$/;
export const MAX_AMOUNT = 1e15;

function amountProblem(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return 'amount is required';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return 'amount must be a finite number';
  } else if (typeof value === 'string') {
    if (/^\s*[+-]?(infinity|nan)\s*$/i.test(value)) return 'amount must be a finite number';
    if (/^\s*-/.test(value) && DECIMAL.test(value.replace('-', ''))) return 'amount must be greater than 0';
    if (!DECIMAL.test(value)) return 'amount must be a number';
  } else {
    return 'amount must be a number';
  }
  const n = Number(value);
  if (n <= 0) return 'amount must be greater than 0';
  if (n > MAX_AMOUNT) return `amount must be at most ${MAX_AMOUNT}`;
  return undefined;
}

export function IsAmount() {
  return ValidateBy({
    name: 'isAmount',
    validator: {
      validate: (value: unknown) => amountProblem(value) === undefined,
      defaultMessage: (args?: ValidationArguments) => amountProblem(args?.value) ?? 'amount is invalid',
    },
  });
}

export class ConvertDto {
  @ApiProperty({
    oneOf: [{ type: 'number' }, { type: 'string' }],
    example: 100,
    description: 'positive amount',
  })
  @IsAmount()
  amount!: number | string;

  @ApiProperty({ example: 'USD' })
  @IsString({ message: 'from must be a currency code' })
  @Length(1, 16, { message: 'from must be a currency code' })
  from!: string;

  @ApiProperty({ example: 'GBP' })
  @IsString({ message: 'to must be a currency code' })
  @Length(1, 16, { message: 'to must be a currency code' })
  to!: string;
}

const FIELDS = ['amount', 'from', 'to'] as const;

/** Two spellings of one field agree when they name the same amount or the same currency code. */
function sameValue(field: (typeof FIELDS)[number], a: unknown, b: unknown): boolean {
  if (field === 'amount') {
    const [x, y] = [Number(a), Number(b)];
    if (typeof a !== 'boolean' && typeof b !== 'boolean' && Number.isFinite(x) && Number.isFinite(y))
      return x === y;
    return String(a).trim() === String(b).trim();
  }
  return String(a).trim().toUpperCase() === String(b).trim().toUpperCase();
}

/**
 * The input of `GET /exchange`: the query string, a JSON body (the seed's clients send a GET with a body), or both
 * when every field given in both agrees. The result is validated as a ConvertDto like any other input.
 */
export function getConversionInput(query: Record<string, unknown>, body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return query;
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new AppError(400, 'validation_failed', 'Expected a JSON object', []);
  }
  const fromBody = body as Record<string, unknown>;
  const conflicts: FieldProblem[] = FIELDS.filter(
    (f) => query[f] !== undefined && fromBody[f] !== undefined && !sameValue(f, query[f], fromBody[f]),
  ).map((field) => ({
    field,
    message: `${field} is ${JSON.stringify(query[field])} in the query but ${JSON.stringify(fromBody[field])} in the body`,
  }));
  if (conflicts.length > 0) {
    throw new AppError(
      400,
      'conflicting_input',
      `The query and the body disagree: ${conflicts.map((c) => c.message).join('; ')}`,
      conflicts,
    );
  }
  return { ...query, ...fromBody };
}
