/**
 * Contract of the service-accounts domain (and the key columns it adds: role, account, expiry),
 * registered by `runStoreContract` so it runs on every adapter (SQLite always, Postgres with
 * `AGENTOS_TEST_PG=1`).
 * @module
 */
import { describe, expect, it } from 'vitest';
import type { Store } from '../types.js';

/** Registers the service-accounts contract; `store()` returns the suite's store (cleared before each test). */
export function runServiceAccountsContract(store: () => Store): void {
  describe('service accounts', () => {
    it('creates, gets and lists within one workspace only', async () => {
      const created = await store().serviceAccounts.create({
        id: 'sa-1',
        workspaceId: 'w1',
        name: 'ci-bot',
        scopes: ['agents:run'],
        role: 'viewer',
        description: 'CI',
        createdBy: 'key_1',
      });
      expect(created).toMatchObject({ id: 'sa-1', workspaceId: 'w1', role: 'viewer', revokedAt: null });
      await store().serviceAccounts.create({ id: 'sa-2', workspaceId: 'w2', name: 'other', scopes: [] });
      expect(await store().serviceAccounts.get('w1', 'sa-1')).toEqual(created);
      expect(await store().serviceAccounts.get('w2', 'sa-1')).toBeNull();
      const page = await store().serviceAccounts.list('w1');
      expect(page.total).toBe(1);
      expect(page.items.map((item) => item.id)).toEqual(['sa-1']);
      await expect(
        store().serviceAccounts.create({ id: 'sa-1', workspaceId: 'w1', name: 'dup', scopes: [] }),
      ).rejects.toMatchObject({ status: 409 });
    });

    it('sorts and pages', async () => {
      for (const name of ['b', 'c', 'a']) {
        await store().serviceAccounts.create({ id: `sa-${name}`, workspaceId: 'w', name, scopes: [] });
      }
      const byName = await store().serviceAccounts.list('w', { sortBy: 'name', sortOrder: 'desc', limit: 2 });
      expect(byName.items.map((item) => item.name)).toEqual(['c', 'b']);
      expect(byName.total).toBe(3);
      const second = await store().serviceAccounts.list('w', { sortBy: 'name', page: 2, limit: 2 });
      expect(second.items.map((item) => item.name)).toEqual(['c']);
    });

    it('updates only active accounts of the workspace', async () => {
      await store().serviceAccounts.create({ id: 'sa-u', workspaceId: 'w', name: 'u', scopes: ['agents:run'] });
      const updated = await store().serviceAccounts.update('w', 'sa-u', {
        role: 'editor',
        scopes: [],
        description: null,
      });
      expect(updated).toMatchObject({ role: 'editor', scopes: [], description: null, name: 'u' });
      expect(await store().serviceAccounts.update('other', 'sa-u', { name: 'x' })).toBeNull();
      expect(await store().serviceAccounts.update('w', 'missing', { name: 'x' })).toBeNull();
    });

    it('revoking an account revokes its tokens with it, once', async () => {
      await store().serviceAccounts.create({ id: 'sa-r', workspaceId: 'w', name: 'r', scopes: [] });
      await store().apiKeys.create({
        id: 'key-r',
        name: 'r token',
        keyHash: 'a'.repeat(64),
        keyPrefix: 'aos_rrrr',
        scopes: [],
        workspaceId: 'w',
        serviceAccountId: 'sa-r',
        role: null,
        expiresAt: 5_000,
      });
      expect(await store().apiKeys.getActiveByHash('a'.repeat(64))).toMatchObject({
        serviceAccountId: 'sa-r',
        expiresAt: 5_000,
        role: null,
      });
      expect((await store().apiKeys.list({ serviceAccountId: 'sa-r' })).total).toBe(1);
      expect(await store().serviceAccounts.revoke('other', 'sa-r')).toBe(false);
      expect(await store().serviceAccounts.revoke('w', 'sa-r')).toBe(true);
      expect(await store().serviceAccounts.revoke('w', 'sa-r')).toBe(false);
      expect(await store().apiKeys.getActiveByHash('a'.repeat(64))).toBeNull();
      expect((await store().serviceAccounts.get('w', 'sa-r'))?.revokedAt).not.toBeNull();
      expect((await store().serviceAccounts.list('w')).total).toBe(0);
      expect((await store().serviceAccounts.list('w', { includeRevoked: true })).total).toBe(1);
      expect(await store().serviceAccounts.update('w', 'sa-r', { name: 'x' })).toBeNull();
    });

    it('keeps a key role', async () => {
      await store().apiKeys.create({
        id: 'key-role',
        name: 'k',
        keyHash: 'b'.repeat(64),
        keyPrefix: 'aos_bbbb',
        scopes: ['agents:x:run'],
        role: 'viewer',
      });
      expect(await store().apiKeys.get('key-role')).toMatchObject({
        role: 'viewer',
        serviceAccountId: null,
        expiresAt: null,
      });
    });
  });
}
