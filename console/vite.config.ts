// Builds the web console (issue 13) into dist/console, served by src/http/routes/console at /console.
// Everything is bundled locally: no CDN, no external fonts.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  // Preact's automatic JSX runtime, so components need no `h` import.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    // Small enough that one chunk loads faster than a waterfall of lazy pages.
    chunkSizeWarningLimit: 300,
  },
  logLevel: 'warn',
});
