import type { Command } from 'commander';
import { generateApiKey, isValidScope } from '../auth/index.js';
import { type ConfigFlags, openServices, withConfigFlags } from './shared.js';

function parseScopes(value: string): string[] {
  const scopes = value
    .split(',')
    .map((scope) => scope.trim())
    .filter((scope) => scope !== '');
  const bad = scopes.find((scope) => !isValidScope(scope));
  if (bad !== undefined)
    throw new Error(`invalid scope "${bad}" (expected resource:action, resource:<id>:action or admin)`);
  return scopes;
}

/** `agentos keys create|list|revoke`: API keys, stored as SHA-256 hashes. */
export function registerKeysCommand(program: Command): void {
  const keys = program.command('keys').description('manage API keys');

  withConfigFlags(keys.command('create').description('create a key; prints it once, alone on the last line'))
    .requiredOption('-n, --name <name>', 'a name to recognise the key by')
    .option('-s, --scopes <list>', 'comma-separated scopes (default admin)', 'admin')
    .action(async (flags: ConfigFlags & { name: string; scopes: string }) => {
      const scopes = parseScopes(flags.scopes);
      const services = await openServices(flags);
      try {
        const key = generateApiKey();
        await services.store.apiKeys.create({
          id: key.id,
          name: flags.name,
          keyHash: key.keyHash,
          keyPrefix: key.keyPrefix,
          scopes,
        });
        process.stderr.write(
          `Created key ${key.id} (${flags.name}) with scopes ${scopes.join(', ')}. It is shown only once:\n`,
        );
        process.stdout.write(`${key.plaintext}\n`);
      } finally {
        await services.close();
      }
    });

  withConfigFlags(keys.command('list').description('list keys (never their values)'))
    .option('--all', 'include revoked keys')
    .action(async (flags: ConfigFlags & { all?: boolean }) => {
      const services = await openServices(flags);
      try {
        const { items } = await services.store.apiKeys.list({ includeRevoked: flags.all === true, limit: 1000 });
        for (const key of items) {
          const state = key.revokedAt === null ? 'active' : 'revoked';
          process.stdout.write(
            `${key.id}\t${key.name}\t${key.keyPrefix}…\t${key.scopes.join(',')}\t${state}\t${new Date(key.createdAt).toISOString()}\n`,
          );
        }
      } finally {
        await services.close();
      }
    });

  withConfigFlags(
    keys.command('revoke').description('revoke a key by id').argument('<id>', 'key id from `keys list`'),
  ).action(async (id: string, flags: ConfigFlags) => {
    const services = await openServices(flags);
    try {
      if (!(await services.store.apiKeys.revoke(id))) throw new Error(`no active key with id ${id}`);
      process.stdout.write(`revoked ${id}\n`);
    } finally {
      await services.close();
    }
  });
}
