import type { ModulePart } from '../platform/part.js';
import { PING_PATTERN } from '../platform/transport/rpc-hub.js';
import { callerPolicy } from './caller-policy.js';
import { PARTS } from './parts.js';
import { callersOf } from './role-table.js';

async function policyOf(...names: Array<keyof typeof PARTS>) {
  const parts: ModulePart[] = await Promise.all(names.map((n) => PARTS[n]()));
  return callerPolicy(parts);
}

describe(callerPolicy.name, () => {
  it('lets only transaction call psp.process and auth.verify', async () => {
    const allowed = await policyOf('psp', 'auth');
    expect([...allowed('psp.process')!]).toEqual(['transaction']);
    expect([...allowed('auth.verify')!]).toEqual(['transaction']);
  });

  it('lets only generator call the exchange patterns', async () => {
    const allowed = await policyOf('exchange');
    expect([...allowed('exchange.convert')!]).toEqual(['generator']);
    expect([...allowed('exchange.rates')!]).toEqual(['generator']);
  });

  it('lets only child call master.report and master.done', async () => {
    const allowed = await policyOf('master');
    expect([...allowed('master.report')!]).toEqual(['child']);
    expect([...allowed('master.done')!]).toEqual(['child']);
  });

  it('lets no role call a part the role table says nobody calls (calculator over TCP)', async () => {
    expect(callersOf('calculator')).toEqual([]);
    expect([...(await policyOf('calculator'))('calculator.summation')!]).toEqual([]);
  });

  it('knows no caller of a pattern this process does not serve', async () => {
    expect((await policyOf('exchange'))('psp.process')).toBeUndefined();
  });

  it('answers the readiness ping to any role', async () => {
    expect((await policyOf('exchange'))(PING_PATTERN)?.has('transaction')).toBe(true);
  });
});
