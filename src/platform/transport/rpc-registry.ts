// Finds every @RpcHandler method of the booted modules at startup, so in-process calls reach the same wrapped
// handler the TCP listener uses.
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { RPC_HANDLER, type RpcHandlerMeta } from './rpc-handler.decorator.js';

export interface LocalHandler {
  meta: RpcHandlerMeta;
  instance: object;
}

@Injectable()
export class RpcRegistry implements OnModuleInit {
  private readonly handlers = new Map<string, LocalHandler>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  onModuleInit(): void {
    for (const wrapper of [...this.discovery.getControllers(), ...this.discovery.getProviders()]) {
      const instance = wrapper.instance as object | undefined;
      if (!instance || typeof instance !== 'object') continue;
      const proto = Object.getPrototypeOf(instance);
      for (const name of this.scanner.getAllMethodNames(proto)) {
        const meta = Reflect.getMetadata(RPC_HANDLER, proto[name]) as RpcHandlerMeta | undefined;
        if (meta) this.handlers.set(meta.def.pattern, { meta, instance });
      }
    }
  }

  get(pattern: string): LocalHandler | undefined {
    return this.handlers.get(pattern);
  }

  patterns(): string[] {
    return [...this.handlers.keys()].sort();
  }
}
