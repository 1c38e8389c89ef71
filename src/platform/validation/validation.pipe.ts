// The global pipe for HTTP bodies and queries: the same validateDto() that RPC handlers use.
import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { isDtoClass, validateDto } from './validate.js';

@Injectable()
export class DtoValidationPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if ((metadata.type === 'body' || metadata.type === 'query') && isDtoClass(metadata.metatype)) {
      return validateDto(metadata.metatype, value ?? (metadata.type === 'query' ? {} : value));
    }
    return value;
  }
}
