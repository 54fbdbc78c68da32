import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Names the run so the tests that start the compiled server build dist/ once between them.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Shared 2-core machines: keep worker count modest so audio tests are not starved.
    maxWorkers: 2,
  },
});
