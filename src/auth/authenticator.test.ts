import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteStore, type KyselyStore } from '../store/index.js';
import { generateApiKey, hashApiKey } from './api-keys.js';
import { bearerToken, createAuthenticator } from './authenticator.js';
import { isLoopbackHost } from './loopback.js';

describe('authenticator', () => {
  let store: KyselyStore;
  beforeEach(async () => {
    store = createSqliteStore({ url: 'sqlite::memory:' });
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
  });

  it('is in dev mode with no credentials and lets anyone in', async () => {
    const auth = createAuthenticator({ staticKeys: [], apiKeys: store.apiKeys });
    expect(await auth.mode()).toBe('none');
    expect((await auth.authenticate(undefined)).kind).toBe('dev');
  });

  it('leaves dev mode as soon as a stored key exists', async () => {
    const auth = createAuthenticator({ staticKeys: [], apiKeys: store.apiKeys });
    const key = generateApiKey();
    await store.apiKeys.create({ ...key, name: 'k', scopes: ['agents:read'] });
    expect(await auth.mode()).toBe('api_key');
    await expect(auth.authenticate(undefined)).rejects.toMatchObject({ code: 'AOS_AUTH_REQUIRED', status: 401 });
    const principal = await auth.authenticate(`Bearer ${key.plaintext}`);
    expect(principal).toMatchObject({ id: key.id, kind: 'api_key', scopes: ['agents:read'] });
    expect((await store.apiKeys.get(key.id))?.lastUsedAt).not.toBeNull();
  });

  it('accepts static keys by plaintext or hash and refuses prefixes and revoked keys', async () => {
    const auth = createAuthenticator({
      staticKeys: [
        { name: 'AGENTOS_API_KEY', key: 'secret-env-key', scopes: ['admin'] },
        { name: 'hashed', keySha256: hashApiKey('hashed-key'), scopes: ['config:read'] },
      ],
      apiKeys: store.apiKeys,
    });
    expect((await auth.authenticate('Bearer secret-env-key')).kind).toBe('env_key');
    expect((await auth.authenticate('bearer hashed-key')).scopes).toEqual(['config:read']);
    await expect(auth.authenticate('Bearer secret-env')).rejects.toMatchObject({ code: 'AOS_AUTH_INVALID' });
    await expect(auth.authenticate('Basic c2VjcmV0')).rejects.toMatchObject({ code: 'AOS_AUTH_REQUIRED' });
    const stored = generateApiKey();
    await store.apiKeys.create({ ...stored, name: 'k', scopes: [] });
    await store.apiKeys.revoke(stored.id);
    await expect(auth.authenticate(`Bearer ${stored.plaintext}`)).rejects.toMatchObject({ code: 'AOS_AUTH_INVALID' });
  });

  it('stays locked after the last stored key is revoked', async () => {
    const auth = createAuthenticator({ staticKeys: [], apiKeys: store.apiKeys });
    const key = generateApiKey();
    await store.apiKeys.create({ ...key, name: 'only', scopes: ['admin'] });
    await store.apiKeys.revoke(key.id);
    expect(await auth.mode()).toBe('api_key');
    await expect(auth.authenticate(`Bearer ${key.plaintext}`)).rejects.toMatchObject({ code: 'AOS_AUTH_INVALID' });
    await expect(auth.authenticate(undefined)).rejects.toMatchObject({ code: 'AOS_AUTH_REQUIRED' });
  });

  it('selects the workspace: own by default, another only for admins, required with tenancy', () => {
    const auth = createAuthenticator({ staticKeys: [], apiKeys: store.apiKeys });
    const member = { id: 'k', kind: 'api_key' as const, scopes: ['sessions:read'], workspaceId: 'w1' };
    expect(auth.selectWorkspace(member, undefined)).toBe(member);
    expect(auth.selectWorkspace(member, 'w1')).toBe(member);
    expect(() => auth.selectWorkspace(member, 'w2')).toThrow(
      expect.objectContaining({ code: 'AOS_AUTH_WORKSPACE_FORBIDDEN', status: 403 }),
    );
    expect(() => auth.selectWorkspace(member, '../w1')).toThrow(
      expect.objectContaining({ code: 'AOS_BAD_REQUEST', status: 400 }),
    );
    const admin = { ...member, scopes: ['admin'] };
    expect(auth.selectWorkspace(admin, 'w2')).toEqual({ ...admin, workspaceId: 'w2' });
    expect(admin.workspaceId).toBe('w1');
    const tenant = createAuthenticator({ staticKeys: [], apiKeys: store.apiKeys, tenancy: true });
    expect(() => tenant.selectWorkspace(admin, undefined)).toThrow(
      expect.objectContaining({ code: 'AOS_AUTH_WORKSPACE_REQUIRED', status: 400 }),
    );
    expect(tenant.selectWorkspace(member, 'w1').workspaceId).toBe('w1');
  });

  it('parses bearer tokens strictly', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('Bearer abc def')).toBeUndefined();
    expect(bearerToken('abc')).toBeUndefined();
  });

  it('knows loopback hosts', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '192.168.1.2'])
      expect(isLoopbackHost(host)).toBe(false);
  });
});
