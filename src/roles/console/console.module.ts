// The operations console, booted by every role. It lives under roles/ because it draws the role table and reads
// the other roles of the deployment; it knows the modules only by their public HTTP paths, so no module is
// imported, and platform/ stays ignorant of both.
import { Module } from '@nestjs/common';
import { ConsoleController } from './console.controller.js';
import { DeploymentService } from './deployment.service.js';
import { PanelsService } from './panels.service.js';
import { SpansController } from './spans.controller.js';
import { TracesService } from './traces.service.js';
import { WelcomeController } from './welcome.controller.js';

@Module({
  controllers: [WelcomeController, ConsoleController, SpansController],
  providers: [DeploymentService, PanelsService, TracesService],
})
export class ConsoleModule {}
