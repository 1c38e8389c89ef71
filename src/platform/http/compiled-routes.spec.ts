import {
  Body,
  Controller,
  Get,
  Header,
  Headers,
  HttpCode,
  Module,
  NotFoundException,
  Param,
  Post,
  Query,
  Req,
  Res,
  StreamableFile,
  UseGuards,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { DiscoveryModule, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { IsString, Length } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { of, type Observable } from 'rxjs';
import { AppError } from '../errors/app-error.js';
import { currentRequestId } from '../logging/request-context.js';
import { configureHttpEdge, dropIdleAdapterHooks, fastifyOptions } from './http-edge.js';

class ItemDto {
  @IsString()
  @Length(1, 5)
  name!: string;
}

class KeyGuard implements CanActivate {
  canActivate(ctx: ExecutionContext): boolean {
    return ctx.switchToHttp().getRequest<FastifyRequest>().headers['x-key'] === 'k';
  }
}

@Controller('items')
class ItemsController {
  @Post()
  create(@Body() dto: ItemDto) {
    return { created: dto.name, isDto: dto instanceof ItemDto };
  }

  @Post('named')
  @HttpCode(200)
  named(@Body('name') name: string) {
    return { name };
  }

  @Get('query')
  query(@Query() q: Record<string, string>, @Query('a') a: string) {
    return { q, a };
  }

  @Get('fail/app')
  failApp() {
    throw new AppError(409, 'taken', 'name is taken', undefined, { 'retry-after': '3' });
  }

  @Get('fail/http')
  failHttp() {
    throw new NotFoundException('nope');
  }

  @Get('fail/async')
  async failAsync() {
    await null;
    throw new Error('boom');
  }

  @Get('observable')
  observable(): Observable<{ a: number }> {
    return of({ a: 1 });
  }

  @Get('body/file')
  file() {
    return new StreamableFile(Buffer.from('abc'), { type: 'text/plain', disposition: 'inline' });
  }

  @Get('body/instance')
  instance() {
    return Object.assign(new ItemDto(), { name: 'i' });
  }

  @Get('body/text')
  text() {
    return 'plain text';
  }

  @Get('body/none')
  none() {
    return undefined;
  }

  @Get('body/array')
  array() {
    return [1, 'a', null];
  }

  @Get('body/async-file')
  async asyncFile() {
    await null;
    return new StreamableFile(Buffer.from('later'));
  }

  @Get('passthrough')
  passthrough(@Res({ passthrough: true }) reply: FastifyReply) {
    reply.status(202).header('x-a', '1');
    return { ok: true };
  }

  @Get('headers')
  @Header('cache-control', 'no-store')
  headers(@Headers('x-thing') thing: string, @Req() req: FastifyRequest) {
    return { thing, url: req.url };
  }

  @Get('guarded')
  @UseGuards(KeyGuard)
  guarded() {
    return { secret: 1 };
  }

  @Get('context')
  context() {
    return { requestId: currentRequestId() };
  }

  @Get('context/async')
  async contextAsync() {
    await new Promise((r) => setTimeout(r, 2));
    return { requestId: currentRequestId() };
  }

  @Get('context/guarded')
  @UseGuards(KeyGuard)
  async contextGuarded() {
    await null;
    return { requestId: currentRequestId() };
  }

  @Get(':id')
  one(@Param('id') id: string) {
    return { id };
  }
}

@Module({ imports: [DiscoveryModule], controllers: [ItemsController] })
class ItemsModule {}

/** Sends every request through Nest's pipeline, which an app-wide interceptor requires. */
class PassThrough implements NestInterceptor {
  intercept(_ctx: ExecutionContext, next: CallHandler) {
    return next.handle();
  }
}

async function app(
  nestPipeline: boolean,
): Promise<{ app: NestFastifyApplication; compiled: string[]; url: string }> {
  const limits = { bodyLimit: 1024 * 1024 };
  const a = await NestFactory.create<NestFastifyApplication>(
    ItemsModule,
    new FastifyAdapter(fastifyOptions(limits.bodyLimit)),
    { logger: false, bodyParser: false },
  );
  if (nestPipeline) a.useGlobalInterceptors(new PassThrough());
  const compiled = configureHttpEdge(a, limits);
  // The compiled side runs as the roles do, without Nest's idle request hooks; the stock side keeps them.
  await a.init();
  if (!nestPipeline) expect(await dropIdleAdapterHooks(a)).toBe(true);
  await a.listen(0, '127.0.0.1');
  const { port } = a.getHttpServer().address() as { port: number };
  return { app: a, compiled, url: `http://127.0.0.1:${port}` };
}

const requests: Array<{
  method: 'GET' | 'POST';
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
}> = [
  { method: 'POST', url: '/items', body: { name: 'abc' } },
  { method: 'POST', url: '/items', body: { name: 'too long', extra: 1 } },
  { method: 'POST', url: '/items', body: [1] },
  { method: 'POST', url: '/items/named', body: { name: 'x' } },
  { method: 'GET', url: '/items/query?a=1&b=2' },
  { method: 'GET', url: '/items/fail/app' },
  { method: 'GET', url: '/items/fail/http' },
  { method: 'GET', url: '/items/fail/async' },
  { method: 'GET', url: '/items/observable' },
  { method: 'GET', url: '/items/body/file' },
  { method: 'GET', url: '/items/body/instance' },
  { method: 'GET', url: '/items/body/text' },
  { method: 'GET', url: '/items/body/none' },
  { method: 'GET', url: '/items/body/array' },
  { method: 'GET', url: '/items/body/async-file' },
  { method: 'GET', url: '/items/passthrough' },
  { method: 'GET', url: '/items/headers', headers: { 'x-thing': 'yes' } },
  { method: 'GET', url: '/items/guarded' },
  { method: 'GET', url: '/items/guarded', headers: { 'x-key': 'k' } },
  { method: 'GET', url: '/items/context' },
  { method: 'GET', url: '/items/context/async' },
  { method: 'GET', url: '/items/context/guarded', headers: { 'x-key': 'k' } },
  { method: 'GET', url: '/items/42' },
  { method: 'GET', url: '/items/' },
];

describe('compiled routes', () => {
  let compiled: Awaited<ReturnType<typeof app>>;
  let stock: Awaited<ReturnType<typeof app>>;

  beforeAll(async () => {
    [compiled, stock] = await Promise.all([app(false), app(true)]);
  });
  afterAll(async () => {
    await Promise.all([compiled?.app.close(), stock?.app.close()]);
  });

  it('serve every route without guards of its own, and leave the guarded one to Nest', () => {
    expect(compiled.compiled).toEqual(
      expect.arrayContaining([
        'ItemsController.create',
        'ItemsController.passthrough',
        'ItemsController.one',
      ]),
    );
    expect(compiled.compiled).not.toContain('ItemsController.guarded');
    expect(stock.compiled).toEqual([]);
  });

  it.each(requests)('answer $method $url exactly as Nest does', async ({ method, url, body, headers }) => {
    const send = async (base: string) => {
      const res = await fetch(`${base}${url}`, {
        method,
        headers: {
          'x-request-id': 'fixed-id',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(headers ?? {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const h = Object.fromEntries(res.headers.entries());
      delete h.date;
      return { status: res.status, headers: h, body: await res.text() };
    };
    const [ours, nest] = await Promise.all([send(compiled.url), send(stock.url)]);
    expect(ours.status).toBeGreaterThan(0);
    expect(ours).toEqual(nest);
  });

  it.each(['/items/context', '/items/context/async', '/items/context/guarded'])(
    'run %s in the request context, before and after an await',
    async (url) => {
      for (const base of [compiled.url, stock.url]) {
        const res = await fetch(`${base}${url}`, { headers: { 'x-request-id': 'ctx-1', 'x-key': 'k' } });
        expect(await res.json()).toEqual({ requestId: 'ctx-1' });
      }
    },
  );
});
