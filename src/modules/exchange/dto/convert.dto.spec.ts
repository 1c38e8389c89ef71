import { itMatchesTheStockValidator } from '../../../../test/harness/dto-parity.js';
import { ConvertDto } from './convert.dto.js';

describe(ConvertDto.name, () => {
  itMatchesTheStockValidator(ConvertDto, [
    { amount: 1, from: 'EUR', to: 'USD' },
    { amount: '2500.5', from: 'cad', to: 'usd' },
    { amount: 'ten', from: 'EUR', to: 'USD' },
    { amount: -1, from: 1, to: 'USD', fee: 2 },
    { amount: Infinity, from: '', to: 'x'.repeat(17) },
    { from: 'EUR' },
  ]);
});
