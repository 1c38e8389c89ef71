import { itMatchesTheStockValidator } from '../../../../test/harness/dto-parity.js';
import { DoneMessageDto, ReportBatchDto } from './report.dto.js';

describe(ReportBatchDto.name, () => {
  itMatchesTheStockValidator(ReportBatchDto, [
    { childId: 'c1', seq: 0, numbers: [1, 2] },
    { childId: '', seq: -1, numbers: 'x' },
    { childId: 'x'.repeat(129), seq: 1.5, numbers: {} },
  ]);
});

describe(DoneMessageDto.name, () => {
  itMatchesTheStockValidator(DoneMessageDto, [
    { childId: 'c1', batches: 1, numbers: 10, stopped: false },
    { childId: 7, batches: -1, numbers: 'ten', stopped: 'no' },
  ]);
});
