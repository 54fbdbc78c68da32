/**
 * The tree reads top-down: storage and observability depend on nothing above them, config and
 * util on nothing but themselves, and src/ (runtime code) never reaches into tooling (qa/,
 * testkit/, test/, bench/). Checked on the import statements of every source file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Repo-relative targets of the relative imports (static, dynamic, re-exports) in `file`. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  return specifiers.map((spec) => relative(root, resolve(join(root, dirname(file)), spec)));
}

/** [importing folder, folders it must not import from]. */
const RULES: Array<[string, string[]]> = [
  ['src/store', ['src/dialog', 'src/tools', 'src/routes', 'src/speech', 'src/media', 'src/recording', 'src/app', 'src/engines', 'src/call-manager']],
  ['src/observability', ['src/dialog', 'src/tools', 'src/routes', 'src/speech', 'src/media', 'src/store', 'src/recording', 'src/app', 'src/engines', 'src/call-manager']],
  ['src/config', ['src/dialog', 'src/tools', 'src/routes', 'src/speech', 'src/media', 'src/store', 'src/recording', 'src/observability']],
  ['src/util', ['src/dialog', 'src/tools', 'src/routes', 'src/speech', 'src/media', 'src/store', 'src/recording', 'src/observability', 'src/config']],
  ['src', ['qa', 'testkit', 'test', 'bench', 'scripts']],
];

const within = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`) || path.startsWith(`${folder}.`);

describe('import direction', () => {
  for (const [from, forbidden] of RULES) {
    it(`${from}/ imports nothing from ${forbidden.join(', ')}`, () => {
      const files = sourceFiles(from);
      expect(files.length).toBeGreaterThan(0);
      const violations = files.flatMap((file) =>
        importsOf(file)
          .filter((target) => forbidden.some((folder) => within(target, folder)))
          .map((target) => `${file} -> ${target}`),
      );
      expect(violations).toEqual([]);
    });
  }
});
