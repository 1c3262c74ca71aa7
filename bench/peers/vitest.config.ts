// Only the formatting test of bench/peers (not part of the suite or CI):
// npx vitest run --config bench/peers/vitest.config.ts
import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { include: ['bench/peers/*.test.ts'], root: '.' } });
