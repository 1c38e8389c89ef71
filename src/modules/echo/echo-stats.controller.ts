// GET /echo/stats: the echo listener's counters, on the role's HTTP port.
import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Public } from '../../platform/http/access.decorator.js';
import type { EchoStats } from './echo.server.js';
import { EchoServerService } from './echo-server.service.js';

@ApiTags('echo')
@Controller('echo')
export class EchoStatsController {
  constructor(private readonly echo: EchoServerService) {}

  @Public()
  @Get('stats')
  stats(): EchoStats {
    return this.echo.stats();
  }
}
