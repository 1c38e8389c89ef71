// GET /: a short plain-text welcome naming what this process runs and where to look next.
import { Controller, Get, Header } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { BootContext } from '../../platform/boot-context.js';
import { Public } from '../../platform/http/access.decorator.js';

@ApiTags('operations')
@Controller()
export class WelcomeController {
  constructor(private readonly boot: BootContext) {}

  @Public()
  @Get()
  @Header('content-type', 'text/plain; charset=utf-8')
  welcome(): string {
    const lines = [
      // The exchange's own greeting comes first wherever the exchange runs (as in the original).
      ...(this.boot.isLocal('exchange') ? ['Welcome to the exchange server.'] : []),
      `polyrole ${this.boot.version}: role ${this.boot.roleLabel} (modules: ${this.boot.parts.map((p) => p.name).join(', ')})`,
      '',
      '  /console        the operations console: topology, health, calls and module panels, live',
      '  /docs           the HTTP API (OpenAPI)',
      '  /health/ready   readiness: database, peers and module checks',
      '',
    ];
    return lines.join('\n');
  }
}
