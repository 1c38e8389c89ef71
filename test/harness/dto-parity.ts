// The compiled validators must report exactly what the stock class-validator path reports, problem for problem
// and in the same order: one helper so every DTO's spec asserts the same thing.
import type { Type } from '@nestjs/common';
import { compileValidator } from '../../src/platform/validation/compiled-validator.js';
import { validateDtoStock } from '../../src/platform/validation/validate.js';

/** Inputs every DTO is checked on besides its own: nothing, wrong types everywhere, and an unknown field. */
const common: Record<string, unknown>[] = [{}, { unknownField: 1 }];

export function itMatchesTheStockValidator(cls: Type<object>, inputs: Record<string, unknown>[]): void {
  const compiled = compileValidator(cls);

  it(`${cls.name} is compiled, not left to the stock path`, () => {
    expect(compiled).toBeDefined();
  });

  it.each([...inputs, ...common])(
    `${cls.name}: the compiled problems equal the stock ones for %j`,
    (input) => {
      const stock = validateDtoStock(cls, input).problems;
      expect(compiled!.problems(input)).toEqual(stock);
    },
  );
}
