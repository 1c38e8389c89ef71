import { ALL_ROLES, parseRoles, partsOf, RoleSelectionError } from './role-table.js';

describe('parseRoles', () => {
  it('defaults to all, which boots every role but the jobs', () => {
    expect(parseRoles(undefined)).toEqual(ALL_ROLES);
    expect(ALL_ROLES).not.toContain('echo-client');
    expect(ALL_ROLES).not.toContain('child');
  });

  it('takes a comma list', () => {
    expect(parseRoles('exchange, generator')).toEqual(['exchange', 'generator']);
  });

  it('rejects an unknown name with the list of valid ones', () => {
    expect(() => parseRoles('exchange,bogus')).toThrow(RoleSelectionError);
    expect(() => parseRoles('bogus')).toThrow(/valid roles: all, exchange, generator/);
  });

  it('maps roles to their module parts', () => {
    expect(partsOf(['generator', 'exchange'])).toEqual(['exchange', 'generator']);
  });
});
