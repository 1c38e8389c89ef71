// The echo-server part: the raw TCP echo listener (ECHO_PORT) and its stats route.
import { Module } from '@nestjs/common';
import { definePart } from '../../platform/part.js';
import { EchoServerService } from './echo-server.service.js';
import { echoServerSettings } from './echo.settings.js';
import { EchoStatsController } from './echo-stats.controller.js';

@Module({ controllers: [EchoStatsController], providers: [EchoServerService] })
export class EchoServerModule {}

export const echoServerPart = definePart({
  name: 'echo-server',
  module: EchoServerModule,
  settings: echoServerSettings,
});
