// HTTP and RPC doors of the master: start, list, inspect and stop children, read the progress, and take the
// children's reports (master.report, master.done). Reads are public; starting and stopping children want the
// operator's token in production, and never come from another site's page (a form post or a no-cors fetch).
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Protected, Public } from '../../platform/http/access.decorator.js';
import { OperatorGuard, SameOriginGuard } from '../../platform/http/operations.guard.js';
import { RpcHandler } from '../../platform/transport/rpc-handler.decorator.js';
import { validateDto } from '../../platform/validation/validate.js';
import { ChildStartLimiter } from './child-start.limiter.js';
import {
  type ChildCreated,
  type ChildDetail,
  ChildrenService,
  type ChildStatus,
  type ChildSummary,
} from './children.service.js';
import { MasterContract, type DoneAck, type ReportAck } from './contract.js';
import { CreateChildrenDto } from './dto/create-children.dto.js';
import { DoneMessageDto, ReportBatchDto } from './dto/report.dto.js';
import { ProgressService } from './progress/progress.service.js';

export interface MasterProgress {
  uniqueNumbers: number;
  percentage: number;
  range: { min: number; max: number };
  received: number;
  duplicates: number;
  children: Record<ChildStatus, number>;
}

@ApiTags('master')
@Controller('master')
export class MasterController {
  constructor(
    private readonly children: ChildrenService,
    private readonly progress: ProgressService,
    private readonly starts: ChildStartLimiter,
  ) {}

  @Protected()
  @UseGuards(SameOriginGuard, OperatorGuard)
  @ApiBearerAuth()
  @Post('create-child')
  @HttpCode(202)
  @ApiBody({ type: CreateChildrenDto, required: false })
  async createChild(@Body() body: unknown, @Req() req: FastifyRequest): Promise<ChildCreated> {
    // The body is optional: an absent one means every default (the global pipe would refuse `undefined`).
    const dto = validateDto(CreateChildrenDto, body ?? {});
    await this.starts.take(req.ip);
    return this.children.create(dto);
  }

  @Protected()
  @UseGuards(SameOriginGuard, OperatorGuard)
  @ApiBearerAuth()
  @Post('children')
  @HttpCode(202)
  @ApiBody({ type: CreateChildrenDto, required: false })
  createChildAlias(@Body() body: unknown, @Req() req: FastifyRequest): Promise<ChildCreated> {
    return this.createChild(body, req);
  }

  @Public()
  @Get('progress')
  getProgress(): MasterProgress {
    const s = this.progress.snapshot();
    return {
      uniqueNumbers: s.uniqueNumbers,
      percentage: s.percentage,
      range: s.range,
      received: s.received,
      duplicates: s.duplicates,
      children: this.children.counts(),
    };
  }

  @Public()
  @Get('children')
  list(): ChildSummary[] {
    return this.children.list();
  }

  @Public()
  @Get('children/:id')
  get(@Param('id') id: string): ChildDetail {
    return this.children.get(id);
  }

  /** 202 while the child is being stopped; 200 with its record when it had already ended. */
  @Protected()
  @UseGuards(SameOriginGuard, OperatorGuard)
  @ApiBearerAuth()
  @Delete('children/:id')
  stop(@Param('id') id: string, @Res({ passthrough: true }) reply: FastifyReply): ChildDetail {
    const { child, stopping } = this.children.stop(id);
    reply.status(stopping ? 202 : 200);
    return child;
  }

  @RpcHandler(MasterContract.patterns.report)
  report(batch: ReportBatchDto): Promise<ReportAck> {
    this.children.authenticate(batch.childId, batch.secret);
    this.children.noteReport(batch.childId);
    return this.progress.ingest(batch);
  }

  @RpcHandler(MasterContract.patterns.done)
  done(message: DoneMessageDto): DoneAck {
    const { secret, ...done } = message;
    this.children.authenticate(done.childId, secret);
    this.children.noteDone(done);
    return { childId: done.childId };
  }
}
