// Runs the raw TCP echo listener inside the role: opened once Nest is up, closed in beforeApplicationShutdown (so
// every complete line is answered and each client gets its close line before the HTTP listener goes away).
import { Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { BootContext } from '../../platform/boot-context.js';
import { ReadinessRegistry } from '../../platform/health/readiness.registry.js';
import { createLogger, type AppLogger } from '../../platform/logging/logger.js';
import { EchoServer, type EchoStats } from './echo.server.js';
import { echoServerSettings, type EchoServerSettings } from './echo.settings.js';

/** Part of the grace period left to the rest of the shutdown (HTTP, RPC clients, exit) after the echo drain. */
const SHUTDOWN_MARGIN = 0.2;

@Injectable()
export class EchoServerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly settings: EchoServerSettings;
  private readonly logger: AppLogger;
  private readonly server: EchoServer;

  constructor(
    private readonly boot: BootContext,
    readiness: ReadinessRegistry,
  ) {
    this.settings = boot.settings(echoServerSettings);
    // The seed's log.level governs the echo lines; LOG_LEVEL governs the rest of the process.
    this.logger = createLogger('echo-server', this.settings.logLevel);
    this.server = new EchoServer(
      {
        port: this.settings.port,
        backlog: this.settings.backlog,
        idleTimeoutMs: this.settings.idleTimeoutMs,
        maxLineBytes: this.settings.maxLineBytes,
      },
      this.logger,
    );
    readiness.register('echo-listener', async () => {
      if (!this.server.listening) throw new Error('echo listener is not open');
      return { port: this.server.port };
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    const port = await this.server.listen();
    const { backlog, idleTimeoutMs, maxLineBytes, logLevel } = this.settings;
    this.logger.info(
      { port, backlog, idleTimeoutMs, maxLineBytes, logLevel },
      `echo listener open on :${port}`,
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    const grace = this.boot.platform.shutdownGraceMs;
    await this.server.close(Math.round(grace * (1 - SHUTDOWN_MARGIN)));
  }

  stats(): EchoStats {
    return this.server.stats();
  }
}
