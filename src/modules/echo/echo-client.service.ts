// The echo-client job as the role runs it: the loop of echo-client.job.ts on the resolved settings, with the real
// clock and sockets. Its exit code ends the process; SIGTERM stops the loop, closes the socket and exits 0.
import { Injectable } from '@nestjs/common';
import { BootContext } from '../../platform/boot-context.js';
import { createLogger, type AppLogger } from '../../platform/logging/logger.js';
import type { Job } from '../../platform/part.js';
import { EchoClientJob, defaultEchoClientDeps } from './echo-client.job.js';
import { echoClientSettings, type EchoClientSettings } from './echo.settings.js';

@Injectable()
export class EchoClientService implements Job {
  private readonly job: EchoClientJob;
  private readonly logger: AppLogger;
  private readonly settings: EchoClientSettings;

  constructor(boot: BootContext) {
    this.settings = boot.settings(echoClientSettings);
    this.logger = createLogger('echo-client', this.settings.logLevel);
    const { id, serverAddress, loopLapseMs, loopPeriodMs, expect } = this.settings;
    this.job = new EchoClientJob(
      { id, server: serverAddress, lapseMs: loopLapseMs, periodMs: loopPeriodMs, expect },
      defaultEchoClientDeps(this.logger),
    );
  }

  async run(): Promise<number> {
    const { id, serverAddress, loopLapseMs, loopPeriodMs, expect, logLevel } = this.settings;
    this.logger.info(
      {
        id,
        server: `${serverAddress.host}:${serverAddress.port}`,
        loopLapseMs,
        loopPeriodMs,
        expect,
        logLevel,
      },
      `[CLIENT ${id}] Main loop started`,
    );
    return (await this.job.run()).exitCode;
  }

  async stop(): Promise<void> {
    await this.job.stop();
  }
}
