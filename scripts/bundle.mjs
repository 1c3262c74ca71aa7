// Bundles the CLI (and so the server) into dist/agentos.mjs plus lazily loaded chunks. Node 20 has no compile
// cache, and resolving and reading a few hundred module files costs about half of the cold start;
// one file halves that (bench/startup). Packages that locate files next to themselves at run time
// (native addons, pino-pretty, tsx's loader) stay external
// and load from node_modules as usual.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));

/**
 * dist/version.js reads ../package.json relative to itself, which is wrong once it lands in dist/chunks/
 * (it moves there when lazily loaded modules share it); the bundle carries the version as a constant.
 */
const inlineVersion = {
  name: 'inline-version',
  setup(build) {
    build.onLoad({ filter: /[\\/]dist[\\/]version\.js$/ }, () => ({
      contents: `export const VERSION = ${JSON.stringify(version)};`,
      loader: 'js',
    }));
  },
};

/**
 * @fastify/swagger require()s the YAML library at load for its YAML document, which agentos does not serve:
 * it gets a stand-in that loads the library on first call, so start-up does not evaluate it (bench/startup).
 */
const lazySwaggerYaml = {
  name: 'lazy-swagger-yaml',
  setup(build) {
    build.onResolve({ filter: /^yaml$/ }, (args) =>
      /[\\/]@fastify[\\/]swagger[\\/]/.test(args.importer)
        ? { path: 'yaml', namespace: 'lazy-swagger-yaml' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-swagger-yaml' }, () => ({
      contents:
        "let yaml;\nconst load = () => (yaml ??= require('yaml'));\n" +
        'module.exports = { parse: (...args) => load().parse(...args), stringify: (...args) => load().stringify(...args) };\n',
      resolveDir: process.cwd(),
      loader: 'js',
    }));
  },
};

/**
 * The OpenTelemetry SDK's CommonJS files require() all of @opentelemetry/semantic-conventions (a few thousand
 * constants, evaluated at start-up) for a handful of attribute names. Each such file gets a module holding just
 * the constants it reads (`semantic_conventions_1.NAME`), with the values taken from the package itself.
 */
const semconvSubset = {
  name: 'semconv-subset',
  setup(build) {
    build.onResolve({ filter: /^@opentelemetry\/semantic-conventions$/ }, (args) => {
      if (args.kind !== 'require-call') return undefined;
      const names = [...readFileSync(args.importer, 'utf8').matchAll(/\bsemantic_conventions_1\.(\w+)/g)].map(
        (match) => match[1],
      );
      if (names.length === 0) return undefined;
      return { path: args.importer, namespace: 'semconv-subset', pluginData: { names } };
    });
    build.onLoad({ filter: /.*/, namespace: 'semconv-subset' }, (args) => {
      const conventions = createRequire(args.path)('@opentelemetry/semantic-conventions');
      const subset = {};
      for (const name of args.pluginData.names) {
        if (conventions[name] === undefined) throw new Error(`bundle: ${args.path} reads unknown ${name}`);
        subset[name] = conventions[name];
      }
      return { contents: `module.exports = ${JSON.stringify(subset)};`, loader: 'js' };
    });
  },
};

/**
 * zod re-exports all of its ~45 message locales as `z.locales` (and `core.locales`), which keeps them in the
 * bundle and evaluates them at start-up; agentos and its bundled dependencies use only English, which zod
 * configures itself. `z.locales` keeps `en` alone.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]v4[\\/]/.test(args.importer)
        ? { path: join(dirname(args.importer), '../locales/index.js'), namespace: 'zod-english-only' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, (args) => ({
      contents: "export { default as en } from './en.js';\n",
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

// Chunks are content-hashed; drop the previous build's so they do not pile up.
rmSync('dist/chunks', { recursive: true, force: true });

const result = await build({
  // The trace file's worker thread (src/store/sqlite/trace-worker.ts) is its own entry, found beside the CLI.
  entryPoints: { agentos: 'dist/cli/index.js', 'trace-worker': 'dist/store/sqlite/trace-worker.js' },
  outdir: 'dist',
  entryNames: '[name]',
  outExtension: { '.js': '.mjs' },
  // Code behind dynamic imports (the agent loop and the AI SDK, provider packages, the local model,
  // YAML, JWT) becomes chunks that are parsed only when first used, not at every start.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
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
  plugins: [inlineVersion, lazySwaggerYaml, semconvSubset, zodEnglishOnly],
  // Which module landed in which chunk: `npx esbuild --analyze` style reports, and the dev dependency check below.
  metafile: true,
  external: [
    'better-sqlite3',
    'sqlite-vec',
    // node-postgres probes for its optional native binding (pg-native); loaded only for postgres:// URLs.
    'pg',
    'pino-pretty',
    'tsx',
    // Fastify's default schema compilers: agentos validates and serialises with zod instead, so these
    // are never executed; left external they are not even parsed at start-up. Any code path that does
    // reach them still loads them from node_modules.
    'ajv',
    'ajv-formats',
    'fast-json-stringify',
    'fast-uri',
    '@fastify/ajv-compiler',
    '@fastify/fast-json-stringify-compiler',
  ],
  // Bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __agentosRequire } from 'node:module';\nconst require = __agentosRequire(import.meta.url);",
  },
});

writeFileSync('dist/agentos.meta.json', JSON.stringify(result.metafile));

// V8 keeps a module's source text in memory, as one byte per character unless a single character is above
// U+00FF, which makes the whole text two bytes per character. esbuild escapes such characters in strings but
// not in regular expression literals, so a `…` in a regex doubled the CLI chunk's resident source.
for (const file of Object.keys(result.metafile.outputs).filter((name) => name.endsWith('.mjs'))) {
  const wide = /[\u{100}-\u{10FFFF}]/u.exec(readFileSync(file, 'utf8'));
  if (wide) {
    throw new Error(`bundle: ${file} contains ${JSON.stringify(wide[0])}: write it as a \\u escape in the source`);
  }
}

// A dev-only package (PGlite, playwright-core, vitest, ...) is not installed in production: one reachable from the
// server would fail there at first use, and bundling it costs start-up time and memory. The lockfile marks the
// packages that only dev dependencies pull in (`dev: true`).
const { packages } = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const bundledDev = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const packagePath = /^((?:.*\/)?node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1];
  if (packagePath && packages[packagePath]?.dev) bundledDev.add(packagePath);
}
if (bundledDev.size > 0) {
  throw new Error(`bundle: dev-only packages reached from the server: ${[...bundledDev].join(', ')}`);
}
