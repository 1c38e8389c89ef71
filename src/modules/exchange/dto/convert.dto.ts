// Input of a conversion, for POST bodies, GET queries and the exchange.convert pattern alike.
import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, ValidateBy, type ValidationArguments } from 'class-validator';

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
