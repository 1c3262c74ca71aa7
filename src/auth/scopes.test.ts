import { describe, expect, it } from 'vitest';
import { ROLE_NAMES } from '../config/schema.js';
import {
  coversScopes,
  expandRoles,
  hasScope,
  isValidScope,
  parseRequirement,
  ROLE_SCOPES,
  ROLES,
  type Role,
} from './scopes.js';

describe('scopes', () => {
  it('admin grants everything', () => {
    expect(hasScope(['admin'], { resource: 'config', action: 'write' })).toBe(true);
  });

  it('global scope covers one resource, per-resource scope only its own id', () => {
    expect(hasScope(['agents:run'], { resource: 'agents', action: 'run', id: 'a' })).toBe(true);
    expect(hasScope(['agents:a:run'], { resource: 'agents', action: 'run', id: 'a' })).toBe(true);
    expect(hasScope(['agents:a:run'], { resource: 'agents', action: 'run', id: 'b' })).toBe(false);
    expect(hasScope(['agents:a:run'], { resource: 'agents', action: 'run' })).toBe(false);
    expect(hasScope(['agents:*:run'], { resource: 'agents', action: 'run', id: 'b' })).toBe(true);
    expect(hasScope(['agents:read'], { resource: 'agents', action: 'run' })).toBe(false);
    expect(hasScope(['teams:run'], { resource: 'agents', action: 'run' })).toBe(false);
  });

  it('validates the grammar', () => {
    expect(isValidScope('agents:read')).toBe(true);
    expect(isValidScope('agents:*:run')).toBe(true);
    expect(isValidScope('agents:my-agent:run')).toBe(true);
    expect(isValidScope('admin')).toBe(true);
    expect(isValidScope('agents')).toBe(false);
    expect(isValidScope('Agents:read')).toBe(false);
    expect(isValidScope('agents:read:')).toBe(false);
    expect(hasScope(['agents:ns:a:run'], { resource: 'agents', action: 'run', id: 'ns:a' })).toBe(true);
    expect(() => parseRequirement('agents')).toThrow();
  });
});

describe('roles', () => {
  it('each role contains the one below it', () => {
    const roles = ['viewer', 'editor', 'admin', 'owner'] as const;
    for (let index = 1; index < roles.length; index++) {
      const lower = ROLE_SCOPES[roles[index - 1] as Role];
      const higher = ROLE_SCOPES[roles[index] as Role];
      expect(lower.every((scope) => higher.includes(scope))).toBe(true);
      expect(higher.length).toBeGreaterThan(lower.length);
    }
    expect(Object.values(ROLE_SCOPES).flat().every(isValidScope)).toBe(true);
    expect(Object.values(ROLE_SCOPES).flat()).not.toContain('admin');
  });

  it('expands roles beside scopes and refuses unknown roles', () => {
    expect(expandRoles([], [])).toEqual([]);
    expect(expandRoles(['viewer'], ['agents:x:run'])).toContain('agents:x:run');
    expect(hasScope(expandRoles(['editor']), { resource: 'agents', action: 'run', id: 'a' })).toBe(true);
    expect(hasScope(expandRoles(['editor']), { resource: 'sessions', action: 'delete' })).toBe(false);
    expect(() => expandRoles(['root'])).toThrow(/unknown role/);
  });

  it('coversScopes: a holder may hand out only what it holds', () => {
    expect(coversScopes(['agents:run'], ['agents:x:run', 'agents:*:run', 'agents:run'])).toBe(true);
    expect(coversScopes(['agents:x:run'], ['agents:run'])).toBe(false);
    expect(coversScopes(['agents:x:run'], ['agents:*:run'])).toBe(false);
    expect(coversScopes(ROLE_SCOPES.admin, ['admin'])).toBe(false);
    expect(coversScopes(['admin'], ['admin', 'keys:write'])).toBe(true);
  });
});

describe('role names', () => {
  it('the config schema names the same roles as the role table', () => {
    expect([...ROLE_NAMES]).toEqual([...ROLES]);
  });
});
