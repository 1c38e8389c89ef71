import { IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { compileValidator } from './compiled-validator.js';
import { validateDto, validateDtoStock } from './validate.js';

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
