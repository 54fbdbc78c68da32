/**
 * Builds `dist/` (tsconfig.build.json) at most once per test run, however many test files and
 * worker processes ask: the first takes a lock folder and compiles, the rest wait for it and find
 * the run's stamp. `runId` comes from the vitest global setup (`inject('runId')`). A lock left by
 * a process that died is taken over.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from './process.js';

const CACHE = join('node_modules', '.cache', 'build-dist');
const LOCK = join(CACHE, 'lock');
const STAMP = join(CACHE, 'stamp');

export async function buildDistOnce(runId: string, timeoutMs = 180_000): Promise<void> {
  mkdirSync(CACHE, { recursive: true });
  const deadline = Date.now() + timeoutMs;
  while (!takeLock()) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for another test's build of dist/`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  try {
    if (read(STAMP) === runId) return;
    const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed:\n${build.stdout}${build.stderr}`);
    writeFileSync(STAMP, runId);
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

function takeLock(): boolean {
  try {
    mkdirSync(LOCK);
    writeFileSync(join(LOCK, 'pid'), String(process.pid));
    return true;
  } catch {
    const owner = Number(read(join(LOCK, 'pid')));
    // No pid yet: the owner is between mkdir and write; wait for it.
    if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) rmSync(LOCK, { recursive: true, force: true });
    return false;
  }
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
