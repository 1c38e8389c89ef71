import { itMatchesTheStockValidator } from '../../../../test/harness/dto-parity.js';
import { PaymentOrderDto } from './payment-order.dto.js';

describe(PaymentOrderDto.name, () => {
  itMatchesTheStockValidator(PaymentOrderDto, [
    { id: '9b2f4c1e-8a3d-4f6b-9c7e-1d2a3b4c5d6e', user_id: 1, amount: '100.50', currency: 'USD' },
    { id: 'not-a-uuid', user_id: 0, amount: '1.234', currency: 'usd' },
    { id: 5, user_id: '1', amount: 100, currency: null },
  ]);
});
