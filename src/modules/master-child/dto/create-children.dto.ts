// The optional body of POST /master/create-child and POST /master/children: how many numbers the child draws
// and from which part of the master range. Cross-field rules (min < max, inside the range) are the service's.
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export const MAX_CHILD_COUNT = 1_000_000_000;
const MAX_BOUND = 2 ** 31 - 1;

export class CreateChildrenDto {
  @ApiPropertyOptional({ example: 1000, description: 'numbers the child draws (default 1000)' })
  @IsOptional()
  @IsInt({ message: 'count must be an integer' })
  @Min(1, { message: 'count must be at least 1' })
  @Max(MAX_CHILD_COUNT, { message: `count must be at most ${MAX_CHILD_COUNT}` })
  count?: number;

  @ApiPropertyOptional({ example: 0, description: 'lowest number drawn (default the master range min, 0)' })
  @IsOptional()
  @IsInt({ message: 'min must be an integer' })
  @Min(0, { message: 'min must be at least 0' })
  @Max(MAX_BOUND, { message: `min must be at most ${MAX_BOUND}` })
  min?: number;

  @ApiPropertyOptional({ example: 10_000_000, description: 'exclusive upper bound (default MASTER_RANGE)' })
  @IsOptional()
  @IsInt({ message: 'max must be an integer' })
  @Min(1, { message: 'max must be at least 1' })
  @Max(MAX_BOUND, { message: `max must be at most ${MAX_BOUND}` })
  max?: number;
}
