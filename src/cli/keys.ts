import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { generateApiKey, isRole, isValidScope, ROLES } from '../auth/index.js';
import { ID_PATTERN } from '../config/index.js';
import { AUDIT_KINDS } from '../security/index.js';
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

/** Who the audit log names for a CLI action: the operating-system user, when it can be read. */
function cliPrincipal(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

/** `agentos keys create|list|revoke`: API keys, stored as SHA-256 hashes. */
export function registerKeysCommand(program: Command): void {
  const keys = program.command('keys').description('manage API keys');

  withConfigFlags(keys.command('create').description('create a key; prints it once, alone on the last line'))
    .requiredOption('-n, --name <name>', 'a name to recognise the key by')
    .option('-s, --scopes <list>', 'comma-separated scopes (default admin, or none with --role)')
    .option('-r, --role <role>', `a role expanded to scopes when the key is used (${ROLES.join(', ')})`)
    .option('-w, --workspace <id>', 'the workspace the key belongs to (an admin key may still act in any)', 'default')
    .action(async (flags: ConfigFlags & { name: string; scopes?: string; role?: string; workspace: string }) => {
      if (flags.role !== undefined && !isRole(flags.role)) {
        throw new Error(`invalid role "${flags.role}" (expected one of ${ROLES.join(', ')})`);
      }
      const scopes = parseScopes(flags.scopes ?? (flags.role === undefined ? 'admin' : ''));
      if (!ID_PATTERN.test(flags.workspace)) {
        throw new Error(`invalid workspace "${flags.workspace}" (expected ${ID_PATTERN.source})`);
      }
      const services = await openServices(flags);
      try {
        const key = generateApiKey();
        await services.store.apiKeys.create({
          id: key.id,
          name: flags.name,
          keyHash: key.keyHash,
          keyPrefix: key.keyPrefix,
          scopes,
          workspaceId: flags.workspace,
          ...(flags.role === undefined ? {} : { role: flags.role }),
        });
        await services.audit.record(AUDIT_KINDS.apiKeyCreated, {
          principal: cliPrincipal(),
          workspaceId: flags.workspace,
          details: { keyId: key.id, name: flags.name, keyPrefix: key.keyPrefix, scopes, role: flags.role ?? null },
        });
        process.stderr.write(
          `Created key ${key.id} (${flags.name}) in workspace ${flags.workspace} with ${flags.role === undefined ? '' : `role ${flags.role} and `}scopes ${scopes.join(', ') || '(none)'}. It is shown only once:\n`,
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
            `${key.id}\t${key.name}\t${key.keyPrefix}…\t${[key.role ? `role:${key.role}` : '', ...key.scopes].filter(Boolean).join(',')}\t${key.workspaceId}\t${state}\t${new Date(key.createdAt).toISOString()}\n`,
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
      const revoked = await services.store.apiKeys.get(id);
      await services.audit.record(AUDIT_KINDS.apiKeyRevoked, {
        principal: cliPrincipal(),
        workspaceId: revoked?.workspaceId ?? null,
        details: { keyId: id, name: revoked?.name ?? null },
      });
      process.stdout.write(`revoked ${id}\n`);
    } finally {
      await services.close();
    }
  });
}
