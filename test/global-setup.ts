/**
 * Once per `vitest run`: names the run, so test files that need the compiled server (`dist/`) build
 * it once between them (testkit/helpers/build-dist.ts) instead of once each, and a run that needs
 * no build (a unit file) pays nothing.
 */
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    runId: string;
  }
}

export default function setup(project: TestProject): void {
  project.provide('runId', `${process.pid}-${Date.now()}`);
}
