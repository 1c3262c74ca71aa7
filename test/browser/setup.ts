/**
 * What the console's browser tests need: the console built from the current sources, and Debian's
 * chromium (installed by scripts/install-chromium.sh when missing; the tests skip, saying why, only
 * when it cannot be installed).
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Folder the screenshots go to (gitignored). */
export const SCREENSHOTS = fileURLToPath(new URL('../../test-artifacts/console/', import.meta.url));

/** Builds the console into dist/console with Vite, so the server serves what the sources say. */
export async function buildConsole(): Promise<void> {
  const { build } = await import('vite');
  await build({ configFile: `${ROOT}console/vite.config.ts`, logLevel: 'error' });
}

function which(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

function locate(): string | undefined {
  const fromEnv = process.env.AGENTOS_CHROMIUM;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  return which('chromium') ?? which('chromium-browser');
}

/** The chromium executable, installing it when possible; else the reason the browser tests skip. */
export function findChromium(): { path: string } | { skip: string } {
  const found = locate();
  if (found) return { path: found };
  const install = spawnSync('bash', [`${ROOT}scripts/install-chromium.sh`], { encoding: 'utf8', timeout: 600_000 });
  const installed = locate();
  if (installed) return { path: installed };
  return { skip: `chromium is not installed and could not be installed: ${install.stderr.trim() || install.error}` };
}
