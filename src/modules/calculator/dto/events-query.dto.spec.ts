import { itMatchesTheStockValidator } from '../../../../test/harness/dto-parity.js';
import { EventsQueryDto } from './events-query.dto.js';

describe(EventsQueryDto.name, () => {
  itMatchesTheStockValidator(EventsQueryDto, [
    { after: '0', limit: '100' },
    { after: '-1', limit: '0' },
    { after: '99999999999999999999', limit: '1001' },
    { after: 5, limit: 10 },
  ]);
});
