// Inputs of the two operations, for HTTP bodies and the calculator.* patterns alike. An int64 field takes a
// safe-integer number or a decimal string; anything else is a 400 before the request counts as a calculation.
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIP, IsOptional, ValidateBy, type ValidationArguments } from 'class-validator';
import { parseInt64 } from '../calculator.math.js';

function int64Problem(value: unknown, field: string): string | undefined {
  try {
    parseInt64(value, field);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

export function IsInt64() {
  return ValidateBy({
    name: 'isInt64',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) =>
        int64Problem(value, args?.property ?? 'value') === undefined,
      defaultMessage: (args?: ValidationArguments) =>
        int64Problem(args?.value, args?.property ?? 'value') ?? 'must be a 64-bit integer',
    },
  });
}

const int64Schema = (example: string) => ({
  oneOf: [{ type: 'integer' }, { type: 'string', pattern: '^-?\\d{1,19}$' }],
  example,
  description: 'a signed 64-bit integer: a safe-integer number or a decimal string',
});

export class SummationDto {
  @ApiProperty(int64Schema('9223372036854775806'))
  @IsInt64()
  first!: number | string;

  @ApiProperty(int64Schema('1'))
  @IsInt64()
  last!: number | string;
}

export class FactorialDto {
  @ApiProperty(int64Schema('20'))
  @IsInt64()
  base!: number | string;
}

/** Over RPC the caller may say whose request it is passing on. */
export class SummationRpcDto extends SummationDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsIP()
  clientIp?: string;
}

export class FactorialRpcDto extends FactorialDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsIP()
  clientIp?: string;
}
