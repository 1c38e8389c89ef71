import { Module } from '@nestjs/common';
import { DiscoveryModule, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { testBoot } from '../../../test/harness/test-boot.js';
import { BootContext } from '../../platform/boot-context.js';
import { configureHttpEdge, fastifyOptions } from '../../platform/http/http-edge.js';
import { conversionSchema } from './contract.js';
import { ExchangeController } from './exchange.controller.js';
import { ExchangeService, RateBook } from './exchange.service.js';
import { DEFAULT_RATES, exchangeSettings } from './exchange.settings.js';

const boot = testBoot([[exchangeSettings, { rates: DEFAULT_RATES }]]);

@Module({
  imports: [DiscoveryModule],
  controllers: [ExchangeController],
  providers: [ExchangeService, { provide: BootContext, useValue: boot }],
})
class ExchangeHttpModule {}

describe('ExchangeController over HTTP', () => {
  let app: NestFastifyApplication;
  let url: string;
  const routes: RouteOptions[] = [];

  beforeAll(async () => {
    const limits = { bodyLimit: 1024 * 1024 };
    app = await NestFactory.create<NestFastifyApplication>(
      ExchangeHttpModule,
      new FastifyAdapter(fastifyOptions(limits.bodyLimit)),
      { logger: false, bodyParser: false },
    );
    const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
    fastify.addHook('onRoute', (route) => void routes.push(route));
    configureHttpEdge(app, limits);
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(() => app?.close());

  it.each(['POST', 'GET'])('%s /exchange declares the Conversion schema for its 200 answer', (method) => {
    const route = routes.find((r) => r.url === '/exchange' && r.method === method);
    expect(route?.schema?.response).toEqual({ 200: conversionSchema });
  });

  it('writes the same JSON text as JSON.stringify, through the compiled serialiser', async () => {
    const input = { amount: 2500.5, from: 'cad', to: 'USD' };
    const expected = JSON.stringify(new RateBook(DEFAULT_RATES).convert(input));
    for (const res of [
      await fetch(`${url}/exchange`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(input),
      }),
      await fetch(`${url}/exchange?amount=2500.5&from=cad&to=USD`),
    ]) {
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(expected);
    }
  });

  it('answers bad input with a problem, which the 200 schema does not touch', async () => {
    const res = await fetch(`${url}/exchange`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ amount: 1, from: 'XYZ', to: 'USD' }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await res.json()).toMatchObject({
      status: 400,
      detail: 'Invalid or unsupported currency code: XYZ',
    });
  });
});
