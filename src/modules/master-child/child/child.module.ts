// The child part (a job): draws its numbers and reports them to the master over the typed MasterClient.
import { Module } from '@nestjs/common';
import { definePart, JOB } from '../../../platform/part.js';
import { provideClients } from '../../../platform/transport/rpc-clients.js';
import { MasterClient, MasterContract } from '../contract.js';
import { childSettings } from '../master.settings.js';
import { ChildRunnerJob } from './child-runner.job.js';

@Module({ providers: [...provideClients(MasterClient), { provide: JOB, useClass: ChildRunnerJob }] })
export class ChildModule {}

export const childPart = definePart({
  name: 'child',
  module: ChildModule,
  settings: childSettings,
  calls: [MasterContract],
  job: true,
});
