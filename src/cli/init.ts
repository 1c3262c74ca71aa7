import type { Command } from 'commander';
import { writeStarterConfig } from '../config/index.js';

/** `agentos init [dir]`: write a commented starter config. */
export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('write a starter agentos.config.yaml')
    .argument('[dir]', 'target folder', '.')
    .option('-f, --force', 'overwrite an existing file')
    .action(async (dir: string, flags: { force?: boolean }) => {
      const path = await writeStarterConfig(dir, { force: flags.force === true });
      process.stdout.write(`${path}\n`);
      process.stderr.write('Next: npx agentos serve  (then open http://127.0.0.1:7777/docs)\n');
    });
}
