/**
 * `/console` serves the built console publicly while the API it calls stays behind credentials, and
 * only files of the built folder can be read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole } from '../../../../test/browser/setup.js';
import { buildTestApp, type TestApp } from '../../../../test/helpers.js';
import { findConsoleDir } from './routes.js';

const KEY = 'aos_console_routes_key_0123456789abcdef';

describe('console routes', () => {
  let test: TestApp;

  beforeAll(async () => {
    if (findConsoleDir() === undefined) await buildConsole();
    test = await buildTestApp({ auth: { api_keys: [KEY] } });
  }, 60_000);
  afterAll(async () => {
    await test?.close();
  });

  it('serves the page without credentials, while the API still asks for them', async () => {
    for (const url of ['/console', '/console/']) {
      const page = await test.app.inject({ method: 'GET', url });
      expect(page.statusCode, url).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.headers['cache-control']).toBe('no-cache');
      expect(page.body).toContain('<div id="app">');
    }
    const agents = await test.app.inject({ method: 'GET', url: '/agents' });
    expect(agents.statusCode).toBe(401);
  });

  it('serves the hashed assets the page names, cacheable for good', async () => {
    const page = await test.app.inject({ method: 'GET', url: '/console/' });
    const scripts = [...page.body.matchAll(/src="(\/console\/assets\/[^"]+\.js)"/g)].map((match) => match[1] as string);
    expect(scripts.length).toBeGreaterThan(0);
    for (const url of scripts) {
      const asset = await test.app.inject({ method: 'GET', url });
      expect(asset.statusCode).toBe(200);
      expect(asset.headers['content-type']).toBe('application/javascript; charset=utf-8');
      expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(asset.body.length).toBeGreaterThan(1000);
    }
  });

  it('answers 404 in the root error shape for missing files and escaped paths that would leave the folder', async () => {
    for (const url of [
      '/console/assets/missing.js',
      '/console/..%2f..%2fpackage.json',
      '/console/assets%2f..%2f..%2f..%2fpackage.json',
    ]) {
      const response = await test.app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(404);
      expect(response.json(), url).toHaveProperty('detail');
      expect(response.body).not.toContain('"name": "agentos"');
    }
    // Dot segments the router folds itself land outside /console, so they meet the API's credentials check.
    const folded = await test.app.inject({ method: 'GET', url: '/console/%2e%2e/%2e%2e/package.json' });
    expect(folded.statusCode).toBe(401);
    expect(folded.body).not.toContain('"name": "agentos"');
  });
});
