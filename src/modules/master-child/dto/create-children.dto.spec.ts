import { itMatchesTheStockValidator } from '../../../../test/harness/dto-parity.js';
import { CreateChildrenDto } from './create-children.dto.js';

describe(CreateChildrenDto.name, () => {
  itMatchesTheStockValidator(CreateChildrenDto, [
    { count: 5, min: 0, max: 10 },
    { count: 0, min: -1, max: 0 },
    { count: '5', min: 1.5, max: 2 ** 31 },
    { count: 2_000_000_000, image: 'evil' },
  ]);
});
