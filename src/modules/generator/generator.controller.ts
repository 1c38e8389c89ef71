import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Public } from '../../platform/http/access.decorator.js';
import { GeneratorService, type RandomConversion } from './generator.service.js';

@ApiTags('generator')
@Public()
@Controller('generator')
export class GeneratorController {
  constructor(private readonly generator: GeneratorService) {}

  @Get('random')
  random(): Promise<RandomConversion> {
    return this.generator.randomConversion();
  }
}
