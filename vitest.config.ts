import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Tests start real servers and databases; forks isolate native handles (better-sqlite3) per file.
    pool: 'forks',
    // Starts a throwaway PostgreSQL cluster when AGENTOS_TEST_PG=1 (a no-op otherwise).
    globalSetup: ['test/pg-cluster.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
