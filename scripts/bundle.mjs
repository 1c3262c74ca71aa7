// Bundles the CLI (and so the server) into one ESM file, dist/agentos.mjs. Node 20 has no compile
// cache, and resolving and reading a few hundred module files costs about half of the cold start;
// one file halves that (bench/startup). Packages that locate files next to themselves at run time
// (native addons, pino-pretty, tsx's loader) stay external
// and load from node_modules as usual.
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/cli/index.js'],
  outfile: 'dist/agentos.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  // Smaller source parses faster. Identifiers are not minified, so stack traces keep their names
  // without esbuild's keepNames helper (which costs a call per closure created at run time).
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  external: ['better-sqlite3', 'sqlite-vec', 'pino-pretty', 'tsx'],
  // Bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __agentosRequire } from 'node:module';\nconst require = __agentosRequire(import.meta.url);",
  },
});
