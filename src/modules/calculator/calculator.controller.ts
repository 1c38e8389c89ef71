// HTTP and RPC doors of the calculator: the two operations, the stats and the event log, the SSE stream of
// watched clients, and the calculator.* patterns for other roles. gRPC is served by CalculatorService itself.
import { Body, Controller, Get, HttpCode, Post, Query, Req, Sse, type MessageEvent } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { map, type Observable } from 'rxjs';
import { BootContext } from '../../platform/boot-context.js';
import { Public } from '../../platform/http/access.decorator.js';
import { hasOperationsAccess, hasOperatorToken } from '../../platform/http/operations.guard.js';
import { currentRequestId, newRequestId } from '../../platform/logging/request-context.js';
import { RpcHandler } from '../../platform/transport/rpc-handler.decorator.js';
import type { CallOrigin, WatchedClientNotice } from './calculate.use-case.js';
import { CalculatorService } from './calculator.service.js';
import { calculatorContract, type FactorialResponse, type SummationResponse } from './contract.js';
import { FactorialDto, FactorialRpcDto, SummationDto, SummationRpcDto } from './dto/calculation.dto.js';
import { EVENTS_DEFAULT_LIMIT, EventsQueryDto } from './dto/events-query.dto.js';
import { CalculatorEventLog, type StatsView } from './event-store/calculator-event-log.service.js';
import type { StoredCalculatorEvent } from './event-store/calculator-event.types.js';

/** The client IP recorded for an RPC call whose caller did not pass one on. */
export const RPC_CLIENT_IP = 'rpc';

function httpOrigin(req: FastifyRequest): CallOrigin {
  return { door: 'http', clientIp: req.ip, requestId: String(req.id) };
}

function rpcOrigin(clientIp: string | undefined): CallOrigin {
  return {
    door: 'rpc',
    clientIp: clientIp ?? RPC_CLIENT_IP,
    requestId: currentRequestId() ?? newRequestId(),
  };
}

/** An event as the public log shows it: with its client address only for an operator. */
function withoutClientIp(e: StoredCalculatorEvent): StoredCalculatorEvent {
  if (!('clientIp' in e.payload)) return e;
  const { clientIp: _hidden, ...payload } = e.payload;
  return { ...e, payload } as StoredCalculatorEvent;
}

function noticeWithoutClientIp(notice: WatchedClientNotice): Omit<WatchedClientNotice, 'clientIp'> {
  const { clientIp: _hidden, ...rest } = notice;
  return rest;
}

export interface EventPage {
  events: Array<Omit<StoredCalculatorEvent, 'createdAt'> & { createdAt: string }>;
  /** Pass as `after` to read on; equals the request's `after` when nothing newer is stored. */
  next: string;
}

@ApiTags('calculator')
@Public()
@Controller('calculator')
export class CalculatorController {
  constructor(
    private readonly calculator: CalculatorService,
    private readonly events: CalculatorEventLog,
    private readonly boot: BootContext,
  ) {}

  @Post('summation')
  @HttpCode(200)
  summation(@Body() dto: SummationDto, @Req() req: FastifyRequest): Promise<SummationResponse> {
    return this.calculator.summation(dto, httpOrigin(req));
  }

  @Post('factorial')
  @HttpCode(200)
  factorial(@Body() dto: FactorialDto, @Req() req: FastifyRequest): Promise<FactorialResponse> {
    return this.calculator.factorial(dto, httpOrigin(req));
  }

  @Get('stats')
  stats(): Promise<StatsView> {
    return this.events.stats();
  }

  /** Every caller's address is in the log: shown to operators only (anyone, where the console is open). */
  @Get('events')
  async eventLog(@Query() query: EventsQueryDto, @Req() req: FastifyRequest): Promise<EventPage> {
    const after = query.after ?? '0';
    const stored = await this.events.read(after, query.limit ? Number(query.limit) : EVENTS_DEFAULT_LIMIT);
    const operator = this.seesClientIps(req);
    return {
      events: stored.map((e) => ({
        ...(operator ? e : withoutClientIp(e)),
        createdAt: e.createdAt.toISOString(),
      })),
      next: stored.at(-1)?.seq ?? after,
    };
  }

  /** Watched-address notices, like the log: the client's address only for an operator (anyone, where open). */
  @Sse('notifications')
  notifications(@Req() req: FastifyRequest): Observable<MessageEvent> {
    const operator = this.seesClientIps(req);
    return this.calculator
      .notifications()
      .pipe(
        map((notice) => ({ type: notice.type, data: operator ? notice : noticeWithoutClientIp(notice) })),
      );
  }

  /** The operator (token or console session) sees callers' addresses; anyone does where the console is open. */
  private seesClientIps(req: FastifyRequest): boolean {
    const p = this.boot.platform;
    return hasOperationsAccess(p, req) || hasOperatorToken(p, req);
  }

  @RpcHandler(calculatorContract.patterns.summation)
  summationRpc(dto: SummationRpcDto): Promise<SummationResponse> {
    return this.calculator.summation({ first: dto.first, last: dto.last }, rpcOrigin(dto.clientIp));
  }

  @RpcHandler(calculatorContract.patterns.factorial)
  factorialRpc(dto: FactorialRpcDto): Promise<FactorialResponse> {
    return this.calculator.factorial({ base: dto.base }, rpcOrigin(dto.clientIp));
  }
}
