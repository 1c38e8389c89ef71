// The stock NestJS peer of the exchange: Nest + Fastify adapter + global ValidationPipe({ whitelist,
// forbidNonWhitelisted, transform }) with a class-validator DTO equivalent to ours, the same decimal arithmetic.
// HTTP on POST /exchange; with PEER_TRANSPORT=tcp instead a stock ServerTCP serving exchange.convert, the same pipe.
// Prints its port on stdout.
import 'reflect-metadata';
import { Body, Controller, HttpCode, Module, Post, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload, Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { IsString, Length, ValidateBy } from 'class-validator';
import { Decimal } from 'decimal.js';
import { createServer } from 'node:net';

const D = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN });
const RATES = new Map(
  Object.entries({ EUR: '1', TL: '17.89', CAD: '1.34', USD: '1.06', GBP: '0.85' }).map(([k, v]) => [
    k,
    new D(v),
  ]),
);
const DECIMAL = /^\s*(\d+(\.\d*)?|\.\d+)\s*$/;

class ConvertDto {
  @ValidateBy({
    name: 'isAmount',
    validator: {
      validate: (v: unknown) =>
        (typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= 1e15) ||
        (typeof v === 'string' && DECIMAL.test(v) && Number(v) > 0 && Number(v) <= 1e15),
      defaultMessage: () => 'amount must be a positive number',
    },
  })
  amount!: number | string;

  @IsString({ message: 'from must be a currency code' })
  @Length(1, 16, { message: 'from must be a currency code' })
  from!: string;

  @IsString({ message: 'to must be a currency code' })
  @Length(1, 16, { message: 'to must be a currency code' })
  to!: string;
}

function convert(dto: ConvertDto) {
  const from = dto.from.trim().toUpperCase();
  const to = dto.to.trim().toUpperCase();
  const rf = RATES.get(from);
  const rt = RATES.get(to);
  if (!rf || !rt) throw new Error(`Invalid or unsupported currency code`);
  const amount = new D(String(dto.amount).trim());
  return {
    from,
    to,
    amount: amount.toNumber(),
    result: amount.times(rt).div(rf).toDecimalPlaces(2).toNumber(),
    rate: rt.div(rf).toDecimalPlaces(6).toNumber(),
  };
}

@Controller('exchange')
class ExchangeController {
  @Post()
  @HttpCode(200)
  convert(@Body() dto: ConvertDto) {
    return convert(dto);
  }

  @MessagePattern('exchange.convert')
  convertRpc(@Payload() dto: ConvertDto) {
    return convert(dto);
  }
}

@Module({ controllers: [ExchangeController] })
class AppModule {}

const pipe = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });

function freePort(): Promise<number> {
  return new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

if (process.env.PEER_TRANSPORT === 'tcp') {
  const port = await freePort();
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(AppModule, {
    transport: Transport.TCP,
    options: { host: '127.0.0.1', port },
    logger: false,
  });
  app.useGlobalPipes(pipe);
  await app.listen();
  console.log(port);
} else {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), {
    logger: false,
  });
  app.useGlobalPipes(pipe);
  await app.listen(0, '127.0.0.1');
  console.log((app.getHttpServer().address() as { port: number }).port);
}
process.on('SIGTERM', () => process.exit(0));
