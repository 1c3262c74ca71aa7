/**
 * `agentos knowledge add <kb> <path…>`: ingests files and folders into a configured knowledge base from
 * the terminal, with the same readers, chunking, embeddings and index as the server. A progress bar
 * (files, chunks, embeddings/s) goes to stderr; the summary to stdout. Files whose bytes did not change
 * since their last completed ingestion are skipped.
 * @module
 */
import type { Command } from 'commander';
import type { KnowledgeContentRecord } from '../store/knowledge-types.js';
import { type ConfigFlags, openServices, withConfigFlags } from './shared.js';

const BAR_WIDTH = 24;

function bar(done: number, total: number): string {
  const filled = total === 0 ? BAR_WIDTH : Math.round((done / total) * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
}

/** Registers `agentos knowledge`. */
export function registerKnowledgeCommand(program: Command): void {
  const knowledge = program.command('knowledge').description('manage knowledge bases');
  withConfigFlags(knowledge.command('add').description('ingest files or folders into a knowledge base'))
    .argument('<knowledge-id>', 'a knowledge base of the config')
    .argument('<paths...>', 'files or folders (folders are read recursively: txt, md, html, json, csv, pdf)')
    .option('-w, --workspace <id>', 'workspace the content belongs to', 'default')
    .action(async (knowledgeId: string, paths: string[], flags: ConfigFlags & { workspace: string }) => {
      const services = await openServices(flags);
      try {
        const { listSourceFiles } = await import('../knowledge/service.js');
        const base = services.knowledge.base(knowledgeId);
        const files = (await Promise.all(paths.map((path) => listSourceFiles(path)))).flat();
        const embedder = services.embedders.get(base.embedder);
        const started = performance.now();
        const computedBefore = embedder.stats.computed;
        let finished = 0;
        let chunks = 0;
        let unchanged = 0;
        const failures: { name: string; message: string }[] = [];
        const tty = process.stderr.isTTY === true;
        const draw = (final = false) => {
          const seconds = (performance.now() - started) / 1000;
          const rate = seconds > 0 ? (embedder.stats.computed - computedBefore) / seconds : 0;
          const line = `${bar(finished + unchanged, files.length)} ${finished + unchanged}/${files.length} files · ${chunks} chunks · ${rate.toFixed(1)} embeddings/s`;
          if (tty) process.stderr.write(`\r${line}${final ? '\n' : ''}`);
          else if (final) process.stderr.write(`${line}\n`);
        };
        const unsubscribe = services.knowledge.onProgress((progress) => {
          if (progress.stage === 'completed') {
            finished += 1;
            chunks += progress.chunks;
          } else if (progress.stage === 'failed') {
            finished += 1;
            failures.push({ name: progress.name, message: progress.message ?? 'failed' });
          }
          draw();
        });
        const replaced: { previous: KnowledgeContentRecord; next: KnowledgeContentRecord }[] = [];
        for (const file of files) {
          try {
            const result = await services.knowledge.addFile(knowledgeId, file, flags.workspace);
            if (result.kind === 'unchanged') unchanged += 1;
            else if (result.previous) replaced.push({ previous: result.previous, next: result.record });
          } catch (error) {
            finished += 1;
            failures.push({ name: file, message: error instanceof Error ? error.message : String(error) });
          }
          draw();
        }
        await services.knowledge.idle();
        await services.knowledge.retirePrevious(replaced);
        unsubscribe();
        draw(true);
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        const added = files.length - unchanged - failures.length;
        process.stdout.write(
          `knowledge ${knowledgeId}: ${added} added (${chunks} chunks), ${unchanged} unchanged, ${failures.length} failed in ${seconds} s\n`,
        );
        for (const failure of failures) process.stderr.write(`failed: ${failure.name}: ${failure.message}\n`);
        if (failures.length > 0) process.exitCode = 1;
      } finally {
        await services.close();
      }
    });
}
