import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Tests start real servers and databases; forks isolate native handles (better-sqlite3) per file.
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
