import type { Command } from 'commander';
import { type ConfigFlags, openServices, withConfigFlags } from './shared.js';

/** `agentos run <agent> "<message>"`: one run from the terminal, with the same persistence as over HTTP. */
export function registerRunCommand(program: Command): void {
  withConfigFlags(program.command('run').description('run an agent once and print its reply'))
    .argument('<agent-id>', 'the agent to run')
    .argument('<message>', 'the message to send')
    .option('-s, --session <id>', 'continue this session (else a new one)')
    .option('--user <id>', 'user id to record on the run')
    .option('--stream', 'print the reply as it is generated')
    .action(
      async (
        agentId: string,
        message: string,
        flags: ConfigFlags & { session?: string; user?: string; stream?: boolean },
      ) => {
        // This process runs the agent itself; leases keep a server on the same database from touching it.
        const services = await openServices(flags);
        try {
          const handle = await services.runs.start({
            workspaceId: 'default',
            agentId,
            message,
            sessionId: flags.session,
            userId: flags.user,
          });
          if (flags.stream) {
            handle.channel.subscribe(-1, {
              onEvent: (event) => {
                if (event.event === 'RunContent' && typeof event.content === 'string')
                  process.stdout.write(event.content);
              },
              onEnd: () => {},
            });
          }
          const run = await handle.done;
          if (!flags.stream) process.stdout.write(run.content ?? '');
          process.stdout.write('\n');
          process.stderr.write(`run ${run.runId} in session ${run.sessionId}: ${run.status}\n`);
          if (run.status !== 'completed') {
            if (run.error) process.stderr.write(`${run.error}\n`);
            process.exitCode = 1;
          }
        } finally {
          await services.close();
        }
      },
    );
}
