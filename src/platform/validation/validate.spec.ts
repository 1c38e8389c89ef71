import { IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { compileValidator } from './compiled-validator.js';
import { AppError } from '../errors/app-error.js';
import { validateDto, validateDtoStock } from './validate.js';

class CodeDto {
  @IsString({ message: 'code must be a currency code' })
  @Length(1, 16, { message: 'code must be a currency code' })
  code!: string;
}

function problemsOf(run: () => unknown): AppError {
  try {
    run();
  } catch (e) {
    return e as AppError;
  }
  throw new Error('expected a validation failure');
}

class WidgetDto {
  @IsString()
  @Length(2, 5)
  name!: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10, { message: 'count is at most $constraint1' })
  count?: number;

  @IsOptional()
  @Matches(/^[A-Z]+$/)
  code?: string;
}

const inputs: Array<[string, Record<string, unknown>]> = [
  ['valid', { name: 'abc', count: 3 }],
  ['valid without optionals', { name: 'abc' }],
  ['missing name', {}],
  ['short name and big count', { name: 'a', count: 11 }],
  ['wrong types', { name: 5, count: 'x', code: 'ab' }],
  ['unknown fields', { name: 'abc', extra: 1, __proto__x: 2 }],
  ['null optional', { name: 'abc', count: null }],
];

describe(compileValidator.name, () => {
  it.each(inputs)('reports exactly what class-validator reports for %s', (_name, input) => {
    const stock = validateDtoStock(WidgetDto, input).problems;
    const fast = compileValidator(WidgetDto)!.problems(input);
    expect(fast).toEqual(expect.arrayContaining(stock));
    expect(fast).toHaveLength(stock.length);
  });

  it('returns an instance of the DTO class', () => {
    expect(validateDto(WidgetDto, { name: 'abc' })).toBeInstanceOf(WidgetDto);
  });
});

describe(validateDto.name, () => {
  it('lists a field once per distinct message, however many rules fail with it', () => {
    const err = problemsOf(() => validateDto(CodeDto, { code: 5 }));
    expect(err.errors).toEqual([{ field: 'code', message: 'code must be a currency code' }]);
    expect(err.message).toBe('code must be a currency code');
  });

  it('keeps distinct messages of one field apart', () => {
    const err = problemsOf(() => validateDto(WidgetDto, { name: 5 }));
    expect(err.errors).toEqual([
      {
        field: 'name',
        message: 'name must be longer than or equal to 2 and shorter than or equal to 5 characters',
      },
      { field: 'name', message: 'name must be a string' },
    ]);
  });
});
