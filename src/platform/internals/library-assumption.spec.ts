import { createRequire } from 'node:module';
import { assumeOf, installedVersion, LibraryAssumptionError } from './library-assumption.js';

const require = createRequire(import.meta.url);

describe(LibraryAssumptionError.name, () => {
  it('names the library, its installed version and the assumption that broke', () => {
    const version = (require('fastify/package.json') as { version: string }).version;
    expect(() => assumeOf('fastify', false, 'the probe holds')).toThrow(
      new LibraryAssumptionError('fastify', version, 'the probe holds'),
    );
    expect(() => assumeOf('fastify', false, 'the probe holds')).toThrow(
      `fastify@${version} no longer works as this platform assumes: the probe holds`,
    );
  });

  it('passes when the assumption holds', () => {
    expect(() => assumeOf('fastify', true, 'the probe holds')).not.toThrow();
  });

  it('finds the version of a package whose exports do not list its package.json', () => {
    expect(installedVersion('@nestjs/microservices')).toMatch(/^\d+\.\d+\.\d+/);
  });
});
