#!/usr/bin/env node
/**
 * The `agentos` command line: thin wrappers over the library (CONTRACT.md §1). Results go to stdout,
 * diagnostics to stderr; errors exit 1 with the message (a config error lists every bad path).
 * @module
 */
import { Command } from 'commander';
import { isAgentOsError } from '../errors/index.js';
import { VERSION } from '../version.js';
import { registerEvalCommand } from './eval.js';
import { registerInitCommand } from './init.js';
import { registerKeysCommand } from './keys.js';
import { registerKnowledgeCommand } from './knowledge.js';
import { registerMigrateCommand } from './migrate.js';
import { registerOpenApiCommand } from './openapi.js';
import { registerRunCommand } from './run.js';
import { registerServeCommand } from './serve.js';

const program = new Command('agentos')
  .description('Self-hosted AgentOS server: agents, teams and workflows behind one API.')
  .version(VERSION);
registerServeCommand(program);
registerInitCommand(program);
registerMigrateCommand(program);
registerKeysCommand(program);
registerKnowledgeCommand(program);
registerRunCommand(program);
registerEvalCommand(program);
registerOpenApiCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`agentos: ${isAgentOsError(error) || error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
