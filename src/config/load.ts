/**
 * Finds, reads and validates the config at boot: file discovery, YAML / JSON / TypeScript loading, environment and
 * CLI overrides. This is the one place in agentos that reads `process.env`.
 * @module
 */
import { access, readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors/index.js';
import { DEMO_CONFIG, DEMO_CONFIG_SOURCE } from './demo.js';
import { applyOverrides, type ConfigOverrides } from './overrides.js';
import { parseConfig } from './parse.js';
import type { AgentOsConfig } from './schema.js';

/** The file names looked for in the working directory, first match wins. */
export const CONFIG_FILE_NAMES = [
  'agentos.config.ts',
  'agentos.config.yaml',
  'agentos.config.yml',
  'agentos.config.json',
] as const;

const MODULE_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);
const YAML_EXTENSIONS = new Set(['.yaml', '.yml']);

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** An explicit config file (`--config`); relative to `cwd`. */
  path?: string;
  /** Where relative paths resolve and discovery looks; defaults to `process.cwd()`. */
  cwd?: string;
  /** The environment for discovery (`AGENTOS_CONFIG`), overrides and `${VAR}` references; defaults to `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** CLI flags; they beat the environment, which beats the file. */
  overrides?: ConfigOverrides;
}

/** What {@link loadConfig} returns. */
export interface LoadedConfig {
  config: AgentOsConfig;
  /** The absolute path of the file read, or {@link DEMO_CONFIG_SOURCE}. */
  source: string;
}

/**
 * Loads the config: `options.path`, else `AGENTOS_CONFIG`, else the first of {@link CONFIG_FILE_NAMES} in `cwd`,
 * else the built-in demo config; then applies overrides and validates, throwing {@link ConfigError} on any problem.
 * @example
 * const { config, source } = await loadConfig({ path: flags.config, overrides: { port: flags.port } });
 */
export async function loadConfig({
  path,
  cwd = process.cwd(),
  env = process.env,
  overrides = {},
}: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const named = path ?? nonEmpty(env.AGENTOS_CONFIG);
  const file = named === undefined ? await findConfigFile(cwd) : resolve(cwd, named);
  if (file !== undefined && named !== undefined && !(await exists(file))) {
    throw new ConfigError([`config file not found: ${file}`], file);
  }
  const source = file ?? DEMO_CONFIG_SOURCE;
  const raw = file === undefined ? DEMO_CONFIG : await readConfigFile(file);
  const config = parseConfig(applyOverrides(raw, env, overrides), { source, env });
  return { config, source };
}

/** Returns the absolute path of the first of {@link CONFIG_FILE_NAMES} present in `cwd`, or `undefined`. */
export async function findConfigFile(cwd: string): Promise<string | undefined> {
  for (const name of CONFIG_FILE_NAMES) {
    const candidate = resolve(cwd, name);
    if (await exists(candidate)) return candidate;
  }
  return undefined;
}

/** Reads one config file into a raw (unvalidated) value, by extension; syntax errors become a {@link ConfigError}. */
export async function readConfigFile(file: string): Promise<unknown> {
  const extension = extname(file).toLowerCase();
  if (MODULE_EXTENSIONS.has(extension)) return importConfigModule(file);
  if (!YAML_EXTENSIONS.has(extension) && extension !== '.json') {
    throw new ConfigError(
      [`unsupported config file extension "${extension}" (expected .yaml, .yml, .json, .ts, .mts, .js or .mjs)`],
      file,
    );
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`cannot read config file: ${errorMessage(error)}`], file);
  }
  return extension === '.json' ? parseJson(text, file) : await parseYaml(text, file);
}

async function parseYaml(text: string, file: string): Promise<unknown> {
  // Loaded on demand: the YAML parser is a sizeable module and the demo or a JSON config never needs it.
  const yaml = await import('yaml');
  // When another bundled dependency require()s yaml, esbuild bundles it as CommonJS and the named exports
  // sit on `default` only (dist/agentos.mjs); from source they are on the module itself.
  const { parseDocument } = 'parseDocument' in yaml ? yaml : (yaml as { default: typeof yaml }).default;
  const document = parseDocument(text);
  if (document.errors.length > 0) {
    const issues = document.errors.map((error) => {
      const position = error.linePos?.[0];
      // yaml appends " at line L, column C:" and a code frame to the first line; keep one line, position first.
      const message = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
      return position === undefined
        ? `YAML syntax error: ${message}`
        : `line ${position.line}, column ${position.col}: YAML syntax error: ${message}`;
    });
    throw new ConfigError(issues, file);
  }
  // An empty file means "all defaults", the same as `{}`.
  return document.toJS() ?? {};
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const message = errorMessage(error);
    const offset = /at position (\d+)/.exec(message)?.[1];
    if (offset === undefined) throw new ConfigError([`JSON syntax error: ${message}`], file);
    const before = text.slice(0, Number(offset)).split('\n');
    const line = before.length;
    const column = (before.at(-1)?.length ?? 0) + 1;
    const reason = message.replace(/ in JSON at position \d+.*$/, '');
    throw new ConfigError([`line ${line}, column ${column}: JSON syntax error: ${reason}`], file);
  }
}

async function importConfigModule(file: string): Promise<unknown> {
  if (!(await exists(file))) throw new ConfigError([`config file not found: ${file}`], file);
  let imported: unknown;
  try {
    // Lazy: tsx registers loader hooks, which YAML and JSON users should not pay for at start-up.
    const { tsImport } = await import('tsx/esm/api');
    imported = await tsImport(pathToFileURL(file).href, import.meta.url);
  } catch (error) {
    throw new ConfigError([`cannot load config module: ${errorMessage(error)}`], file);
  }
  const config = defaultExport(imported);
  if (config === undefined) {
    throw new ConfigError(['the config module has no default export (use export default defineConfig({…}))'], file);
  }
  return config;
}

function defaultExport(imported: unknown): unknown {
  if (typeof imported !== 'object' || imported === null) return undefined;
  const value = (imported as { default?: unknown }).default;
  // tsx compiles a .ts file outside a "type": "module" package to CommonJS, so Node hands back module.exports as
  // the default: { __esModule: true, default?: config }.
  if (typeof value === 'object' && value !== null && (value as { __esModule?: unknown }).__esModule === true) {
    return (value as { default?: unknown }).default;
  }
  return value;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

// Issues are one line each; compiler errors from a config module span several.
function errorMessage(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).trim().replace(/\s*\n\s*/g, ' ');
}
