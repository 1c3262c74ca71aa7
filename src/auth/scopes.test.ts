import { describe, expect, it } from 'vitest';
import { hasScope, isValidScope, parseRequirement } from './scopes.js';

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
