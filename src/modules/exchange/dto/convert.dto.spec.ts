import { compileValidator } from '../../../platform/validation/compiled-validator.js';
import { validateDtoStock } from '../../../platform/validation/validate.js';
import { ConvertDto } from './convert.dto.js';

describe(ConvertDto.name, () => {
  it.each([
    { amount: 1, from: 'EUR', to: 'USD' },
    { amount: 'ten', from: 'EUR', to: 'USD' },
    { amount: -1, from: 1, to: 'USD', fee: 2 },
    { from: 'EUR' },
  ])('matches the stock path for ConvertDto %j', (input) => {
    const stock = validateDtoStock(ConvertDto, input).problems;
    expect(compileValidator(ConvertDto)!.problems(input)).toEqual(expect.arrayContaining(stock));
  });
});
