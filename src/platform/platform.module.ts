// Everything every role has: boot context, health, operations endpoints, RPC hub and registry, database handle.
import { Global, Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import type { DataSource } from 'typeorm';
import { BootContext } from './boot-context.js';
import { Clock, Random } from './clock.js';
import { Database } from './database/database.js';
import { HealthController } from './health/health.controller.js';
import { ReadinessRegistry } from './health/readiness.registry.js';
import { OperationsController } from './http/operations.controller.js';
import { Lifecycle } from './shutdown/lifecycle.js';
import { SPAN_RING, spanRing } from './tracing/tracing.js';
import { RpcHub } from './transport/rpc-hub.js';
import { RpcRegistry } from './transport/rpc-registry.js';

@Global()
@Module({})
export class PlatformModule {
  static forRoot(boot: BootContext, dataSource: DataSource | undefined): DynamicModule {
    const dataSourceToken = dataSource?.constructor as (new (...args: never[]) => DataSource) | undefined;
    return {
      module: PlatformModule,
      imports: [DiscoveryModule, TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController, OperationsController],
      providers: [
        { provide: BootContext, useValue: boot },
        { provide: Database, useValue: new Database(dataSource) },
        // typeorm is loaded only by roles that own tables; its DataSource class is the injection token.
        ...(dataSourceToken ? [{ provide: dataSourceToken, useValue: dataSource }] : []),
        Clock,
        Random,
        Lifecycle,
        ReadinessRegistry,
        RpcRegistry,
        RpcHub,
        // The ring startTracing() registered with this process's tracer provider (the console reads it).
        { provide: SPAN_RING, useFactory: spanRing },
      ],
      exports: [
        BootContext,
        Clock,
        Random,
        Database,
        Lifecycle,
        ReadinessRegistry,
        RpcHub,
        SPAN_RING,
        ...(dataSourceToken ? [dataSourceToken] : []),
      ],
    };
  }
}
