import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { undotPackagelessSymbols } from './grpc-reflection.js';
import { LibraryAssumptionError } from './library-assumption.js';

const PROTO =
  'syntax = "proto3";\nservice Probe { rpc Ping (Ping) returns (Ping); }\nmessage Ping { string id = 1; }\n';

function packagelessDefinition(): protoLoader.PackageDefinition {
  const dir = mkdtempSync(join(tmpdir(), 'polyrole-proto-'));
  try {
    writeFileSync(join(dir, 'probe.proto'), PROTO);
    return protoLoader.loadSync(join(dir, 'probe.proto'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe(undotPackagelessSymbols.name, () => {
  it("re-keys a package-less proto's service under its real name in both protocol versions", () => {
    const reflection = undotPackagelessSymbols(new ReflectionService(packagelessDefinition()));
    const impls = reflection as unknown as Record<'v1' | 'v1Alpha', { services: object; symbols: object }>;
    for (const impl of [impls.v1, impls.v1Alpha]) {
      expect(Object.keys(impl.services)).toContain('Probe');
      expect(Object.keys(impl.services)).not.toContain('.Probe');
      expect(Object.keys(impl.symbols)).toContain('Probe');
    }
  });

  it('fails loudly, naming @grpc/reflection, when the service keeps no per-version index', () => {
    const moved = { v2: {} } as unknown as ReflectionService;
    expect(() => undotPackagelessSymbols(moved)).toThrow(LibraryAssumptionError);
    expect(() => undotPackagelessSymbols(moved)).toThrow(/^@grpc\/reflection@\S+ .*v1 implementation/);
  });
});
