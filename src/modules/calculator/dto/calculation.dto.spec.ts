import { itMatchesTheStockValidator } from '../../../../test/harness/dto-parity.js';
import { FactorialDto, FactorialRpcDto, SummationDto, SummationRpcDto } from './calculation.dto.js';

const summations = [
  { first: 1, last: '9223372036854775806' },
  { first: '9223372036854775808', last: 1.5 },
  { first: 'x', last: null },
];
const factorials = [{ base: 20 }, { base: '-1' }, { base: true }, { base: 1, extra: 2 }];

describe(SummationDto.name, () => itMatchesTheStockValidator(SummationDto, summations));
describe(FactorialDto.name, () => itMatchesTheStockValidator(FactorialDto, factorials));
describe(SummationRpcDto.name, () =>
  itMatchesTheStockValidator(SummationRpcDto, [...summations, { first: 1, last: 2, clientIp: 'not-an-ip' }]),
);
describe(FactorialRpcDto.name, () =>
  itMatchesTheStockValidator(FactorialRpcDto, [...factorials, { base: 3, clientIp: '10.0.0.1' }]),
);
