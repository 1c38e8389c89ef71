// GET /spans on every role: the spans this role kept (recent and slowest) for the console's traces, behind the
// operations guard like the console. Without tracing set up there is no ring, and the lists are empty.
import { Controller, Get, Inject, Optional, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { BootContext } from '../../platform/boot-context.js';
import { AppError } from '../../platform/errors/app-error.js';
import { Protected } from '../../platform/http/access.decorator.js';
import { OperationsGuard } from '../../platform/http/operations.guard.js';
import { SPAN_RING, type SpanRecord, type SpanRing } from '../../platform/tracing/span-ring.js';
import { SPANS_MAX_LIMIT, SpansQueryDto } from './dto/spans-query.dto.js';

export interface SpansView {
  role: string;
  /** False when this process keeps no spans (tracing off). */
  tracing: boolean;
  recent: SpanRecord[];
  slowest: SpanRecord[];
}

@ApiTags('operations')
@ApiBearerAuth()
@Protected()
@UseGuards(OperationsGuard)
@Controller('spans')
export class SpansController {
  constructor(
    private readonly boot: BootContext,
    @Optional() @Inject(SPAN_RING) private readonly ring?: SpanRing,
  ) {}

  @Get()
  spans(@Query() query: SpansQueryDto): SpansView {
    const limit = query.limit === undefined ? undefined : Number(query.limit);
    if (limit !== undefined && limit > SPANS_MAX_LIMIT)
      throw new AppError(400, 'validation_failed', `limit must be an integer from 1 to ${SPANS_MAX_LIMIT}`);
    const kept = this.ring?.query({
      traceId: query.traceId,
      rpcMethod: query.rpcMethod,
      peer: query.peer,
      limit,
    });
    return {
      role: this.boot.roleLabel,
      tracing: this.ring !== undefined,
      recent: kept?.recent ?? [],
      slowest: kept?.slowest ?? [],
    };
  }
}
