// HTTP and RPC doors of the exchange: POST/GET /exchange, the rate table, the SSE stream and exchange.convert.
import { Body, Controller, Get, HttpCode, Post, Query, Sse, type MessageEvent } from '@nestjs/common';
import { RouteSchema } from '@nestjs/platform-fastify';
import { ApiBody, ApiQuery, ApiTags } from '@nestjs/swagger';
import { map, type Observable } from 'rxjs';
import { Public } from '../../platform/http/access.decorator.js';
import { RpcHandler } from '../../platform/transport/rpc-handler.decorator.js';
import { validateDto } from '../../platform/validation/validate.js';
import { conversionSchema, exchangeContract, type Conversion, type RateTable } from './contract.js';
import { ConvertDto, getConversionInput } from './dto/convert.dto.js';
import { ExchangeService } from './exchange.service.js';

@ApiTags('exchange')
@Public()
@Controller('exchange')
export class ExchangeController {
  constructor(private readonly exchange: ExchangeService) {}

  @Post()
  @HttpCode(200)
  @RouteSchema({ response: { 200: conversionSchema } })
  convert(@Body() dto: ConvertDto): Conversion {
    return this.exchange.convert(dto);
  }

  @Get()
  @RouteSchema({ response: { 200: conversionSchema } })
  @ApiQuery({ type: ConvertDto, required: false })
  @ApiBody({
    type: ConvertDto,
    required: false,
    description: 'the same fields as a JSON body, as the seed sends them',
  })
  convertQuery(@Query() query: Record<string, unknown>, @Body() body: unknown): Conversion {
    return this.exchange.convert(validateDto(ConvertDto, getConversionInput(query, body)));
  }

  @Get('rates')
  rates(): RateTable {
    return this.exchange.rates();
  }

  @Sse('stream')
  stream(): Observable<MessageEvent> {
    return this.exchange.stream().pipe(map((data) => ({ type: 'conversion', data })));
  }

  @RpcHandler(exchangeContract.patterns.convert)
  convertRpc(dto: ConvertDto): Conversion {
    return this.exchange.convert(dto);
  }

  @RpcHandler(exchangeContract.patterns.rates)
  ratesRpc(): RateTable {
    return this.exchange.rates();
  }
}
