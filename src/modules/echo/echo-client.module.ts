// The echo-client part, a job: it speaks raw TCP to echo-server (no Nest contract), so its readiness is liveness.
import { Module } from '@nestjs/common';
import { JOB, definePart } from '../../platform/part.js';
import { EchoClientService } from './echo-client.service.js';
import { echoClientSettings } from './echo.settings.js';

@Module({ providers: [{ provide: JOB, useClass: EchoClientService }], exports: [JOB] })
export class EchoClientModule {}

export const echoClientPart = definePart({
  name: 'echo-client',
  module: EchoClientModule,
  settings: echoClientSettings,
  job: true,
});
