import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { LibraryAssumptionError } from './library-assumption.js';
import {
  assumeNestAdapterHooks,
  middlewareAdded,
  nestAdapterState,
  watchMiddleware,
} from './nest-platform-fastify.js';

@Controller('probe')
class ProbeController {
  @Get()
  get() {
    return {};
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

describe('Nest FastifyAdapter internals', () => {
  it("reads a real adapter's hook state", () => {
    const state = nestAdapterState(new FastifyAdapter());
    expect(state).toMatchObject({ isShuttingDown: false, return503OnClosing: false });
  });

  it('fails loudly, naming @nestjs/platform-fastify, when the shutdown flag is renamed', () => {
    const { isShuttingDown, ...renamed } = { ...new FastifyAdapter(), isClosingDown: false } as Record<
      string,
      unknown
    >;
    void isShuttingDown;
    expect(() => nestAdapterState(renamed)).toThrow(LibraryAssumptionError);
    expect(() => nestAdapterState(renamed)).toThrow(/^@nestjs\/platform-fastify@\S+ .*"isShuttingDown"/);
  });

  it('fails loudly when a feature field (the CORS hook) is no longer declared', () => {
    const { corsHook, ...renamed } = { ...new FastifyAdapter() } as Record<string, unknown>;
    void corsHook;
    expect(() => nestAdapterState(renamed)).toThrow(/"corsHook"/);
  });

  it('fails loudly when a fresh instance carries another set of hooks than Nest 12.5 installs', () => {
    expect(() =>
      assumeNestAdapterHooks({ onRequest: new Array(8).fill(() => 0), onResponse: [() => 0] }),
    ).toThrow(/7 onRequest hooks .* found 8 and 1/);
    expect(() =>
      assumeNestAdapterHooks({ onRequest: new Array(7).fill(() => 0), onResponse: [() => 0] }),
    ).not.toThrow();
  });

  async function watchedApp() {
    const app = await NestFactory.create<NestFastifyApplication>(ProbeModule, new FastifyAdapter(), {
      logger: false,
    });
    const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
    watchMiddleware(fastify);
    return { app, fastify };
  }
  const pass = (_req: unknown, _res: unknown, next: () => void) => next();

  it('notices middleware added through app.use(), and none before', async () => {
    const { app, fastify } = await watchedApp();
    try {
      await app.init();
      expect(middlewareAdded(fastify)).toBe(false);
      app.use(pass);
      expect(middlewareAdded(fastify)).toBe(true);
    } finally {
      await app.close();
    }
  });

  it("notices middleware added through a plugin's encapsulated context", async () => {
    const { app, fastify } = await watchedApp();
    try {
      await app.register(async (instance: FastifyInstance) => {
        (instance as unknown as { use(fn: typeof pass): void }).use(pass);
      });
      await app.init();
      expect(middlewareAdded(fastify)).toBe(true);
    } finally {
      await app.close();
    }
  });

  it('fails loudly, naming @fastify/middie, when the instance has no use()', () => {
    expect(() => watchMiddleware({ addHook: () => undefined } as unknown as FastifyInstance)).toThrow(
      /^@fastify\/middie@\S+ .*use\(\) decorator/,
    );
  });
});
