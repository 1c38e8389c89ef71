// /about and /metrics on every role (open outside production, the operator's token in production), and the ping
// pattern that peers use for readiness.
import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { BootContext } from '../boot-context.js';
import { registry } from '../metrics/metrics.js';
import { PING_PATTERN, RpcHub } from '../transport/rpc-hub.js';
import { RpcRegistry } from '../transport/rpc-registry.js';
import { RpcHandler } from '../transport/rpc-handler.decorator.js';
import { rpcPattern } from '../transport/contract.js';
import { Protected } from './access.decorator.js';
import { OperatorGuard } from './operations.guard.js';

const ping = rpcPattern<Record<string, never>, { role: string }>(PING_PATTERN, { idempotent: true });

@ApiTags('operations')
@Controller()
export class OperationsController {
  constructor(
    private readonly boot: BootContext,
    private readonly hub: RpcHub,
    private readonly registry: RpcRegistry,
  ) {}

  @Protected()
  @UseGuards(OperatorGuard)
  @ApiBearerAuth()
  @Get('about')
  about() {
    return {
      name: 'polyrole',
      version: this.boot.version,
      role: this.boot.roleLabel,
      roles: this.boot.roles,
      modules: this.boot.parts.map((p) => p.name),
      patterns: this.registry.patterns().filter((p) => p !== PING_PATTERN),
      peers: this.hub.peerStates(),
      listeners: {
        http: this.boot.platform.httpPort,
        ...(this.boot.parts.some((p) => p.serves?.length) ? { tcp: this.boot.platform.tcpPort } : {}),
      },
      uptimeS: Math.round(process.uptime()),
    };
  }

  @Protected()
  @UseGuards(OperatorGuard)
  @ApiBearerAuth()
  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics(): Promise<string> {
    return registry.metrics();
  }

  @RpcHandler(ping)
  ping(): { role: string } {
    return { role: this.boot.roleLabel };
  }
}
