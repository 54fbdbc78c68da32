/**
 * Worker threads run plain Node, which cannot load our TypeScript sources (Node 20 has no type
 * stripping). This transpiles the given source files into a temp dir, keeping their layout so
 * relative imports still resolve, and points bare imports (better-sqlite3) at the worktree's
 * node_modules, so a worker runs the very same store code the tests exercise.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const require = createRequire(join(repoRoot, 'package.json'));

/** Transpiles `sources` (paths relative to the repo root) under `outDir`; returns file URLs by source. */
export function compileForWorker(sources: readonly string[], outDir: string): Map<string, string> {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'package.json'), JSON.stringify({ type: 'module' }));
  const urls = new Map<string, string>();
  for (const source of sources) {
    const input = readFileSync(join(repoRoot, source), 'utf8');
    const { outputText } = ts.transpileModule(input, {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
    });
    const rewritten = outputText.replace(/from '([^'.][^']*)'/g, (match, specifier: string) =>
      specifier.startsWith('node:') ? match : `from '${pathToFileURL(require.resolve(specifier)).href}'`,
    );
    const outFile = join(outDir, relative(repoRoot, join(repoRoot, source)).replace(/\.ts$/, '.js'));
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, rewritten);
    urls.set(source, pathToFileURL(outFile).href);
  }
  return urls;
}
