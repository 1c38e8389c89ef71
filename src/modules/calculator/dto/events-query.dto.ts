// GET /calculator/events?after=&limit=: a position in the log and a bounded page size, both as query strings.
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, ValidateBy } from 'class-validator';
import { INT64_MAX } from '../calculator.math.js';

export const EVENTS_DEFAULT_LIMIT = 100;
export const EVENTS_MAX_LIMIT = 1000;

const NON_NEGATIVE_INT64 = /^\d{1,19}$/;

function isSeq(value: unknown): boolean {
  return typeof value === 'string' && NON_NEGATIVE_INT64.test(value) && BigInt(value) <= INT64_MAX;
}

export class EventsQueryDto {
  @ApiPropertyOptional({ description: 'return events with a sequence number above this one', default: '0' })
  @IsOptional()
  @ValidateBy({
    name: 'isSeq',
    validator: { validate: isSeq, defaultMessage: () => 'after must be a non-negative 64-bit integer' },
  })
  after?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: EVENTS_MAX_LIMIT, default: EVENTS_DEFAULT_LIMIT })
  @IsOptional()
  @ValidateBy({
    name: 'isLimit',
    validator: {
      validate: (v: unknown) =>
        typeof v === 'string' && /^[1-9]\d{0,3}$/.test(v) && Number(v) <= EVENTS_MAX_LIMIT,
      defaultMessage: () => `limit must be an integer from 1 to ${EVENTS_MAX_LIMIT}`,
    },
  })
  limit?: string;
}
