// Liveness checks nothing external; readiness checks the database, the peers and module checks, each bounded.
import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  type HealthIndicatorFunction,
} from '@nestjs/terminus';
import { BootContext } from '../boot-context.js';
import { Public } from '../http/access.decorator.js';
import { RpcHub } from '../transport/rpc-hub.js';
import { Lifecycle } from '../shutdown/lifecycle.js';
import { Database } from '../database/database.js';
import { ReadinessRegistry } from './readiness.registry.js';

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly boot: BootContext,
    private readonly lifecycle: Lifecycle,
    private readonly hub: RpcHub,
    private readonly database: Database,
    private readonly readiness: ReadinessRegistry,
  ) {}

  @Public()
  @Get('live')
  // Terminus would document the route by requiring @nestjs/swagger itself, a second copy in the bundled build.
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOkResponse({ description: 'The process is up' })
  @ApiServiceUnavailableResponse({ description: 'The process is not serving' })
  live() {
    return this.health.check([
      () => this.indicator.check('process').up({ uptimeS: Math.round(process.uptime()) }),
    ]);
  }

  @Public()
  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    try {
      return await this.health.check(this.readinessChecks());
    } catch (err) {
      // Keep Terminus's per-check report on a 503, so an operator sees which dependency is down.
      if (!(err instanceof ServiceUnavailableException)) throw err;
      void reply.status(503);
      return err.getResponse();
    }
  }

  private readinessChecks(): HealthIndicatorFunction[] {
    const timeout = this.boot.platform.healthTimeoutMs;
    const checks: HealthIndicatorFunction[] = [
      () =>
        this.lifecycle.isShuttingDown
          ? this.indicator.check('lifecycle').down({ message: 'shutting down' })
          : this.indicator.check('lifecycle').up({}),
    ];
    if (this.database.enabled) {
      checks.push(() =>
        this.indicator
          .check('database')
          .attempt(() => this.database.ping())
          .withTimeout(timeout),
      );
    }
    for (const peer of this.boot.peers.values()) {
      checks.push(() =>
        this.indicator
          .check(`peer:${peer.role}`)
          .attempt(() => this.hub.ping(peer.part, timeout))
          .withTimeout(timeout),
      );
    }
    for (const [key, check] of this.readiness.entries()) {
      checks.push(() =>
        this.indicator
          .check(key)
          .attempt(({ signal }) => check(signal))
          .withTimeout(timeout),
      );
    }
    return checks;
  }
}
