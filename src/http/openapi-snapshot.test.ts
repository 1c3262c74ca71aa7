import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../test/helpers.js';
import { renderOpenApiDocument } from '../cli/openapi.js';
import { DEMO_CONFIG, DEMO_CONFIG_SOURCE, parseConfig } from '../config/index.js';

const COMMITTED_PATH = resolve(import.meta.dirname, '../../openapi.json');
const OUTDATED =
  'openapi.json is out of date with the route schemas: run `npm run openapi` and commit the regenerated file';

describe('openapi.json', () => {
  it('matches the document generated from the routes for the built-in demo config', async () => {
    const config = parseConfig(DEMO_CONFIG, { source: DEMO_CONFIG_SOURCE, env: {} });
    const generated = await renderOpenApiDocument({
      config,
      configSource: DEMO_CONFIG_SOURCE,
      logger: memoryLogger().logger,
    });
    const committed = await readFile(COMMITTED_PATH, 'utf8').catch(() => null);
    expect(committed, `${OUTDATED} (the file is missing)`).not.toBeNull();

    // Parsed first, so a change shows as a readable diff of the document; then byte for byte, so the
    // committed file also keeps the command's formatting.
    expect(JSON.parse(committed ?? '{}'), OUTDATED).toEqual(JSON.parse(generated));
    expect(committed, `${OUTDATED} (same document, different formatting)`).toBe(generated);
  });
});
