/**
 * Shared benchmark harness, reporting side: statistics, machine facts, command-line options,
 * results files and BENCHMARKS.md sections. The server and fakes child processes are in
 * ./children.ts, the paced caller and scripted calls in ./bench-caller.ts.
 */
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

export const now = (): number => performance.timeOrigin + performance.now();
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---- statistics and reporting ---------------------------------------------------------------

export interface Stats { n: number; p50: number; p95: number; mean: number; max: number }

export function stats(values: readonly number[]): Stats {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
  const r = (x: number) => Math.round(x * 10) / 10;
  return { n: s.length, p50: r(at(0.5)), p95: r(at(0.95)), mean: r(s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)), max: r(s.at(-1) ?? NaN) };
}

export const fmt = (s: Stats) => (s.n === 0 ? '–' : `${s.p50} / ${s.p95}`);

export function table(header: string[], rows: Array<Array<string | number>>): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export interface Machine { date: string; nproc: number; cpu: string; node: string; loadavg: number[] }

export function machine(): Machine {
  return {
    date: new Date().toISOString(),
    nproc: Number(execSync('nproc').toString().trim()),
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export const machineLine = (m: Machine, end?: Machine) =>
  `${m.date} · nproc ${m.nproc} · ${m.cpu} · Node ${m.node} · load average ${m.loadavg.join(', ')} at start` +
  (end ? `, ${end.loadavg.join(', ')} at end` : '');

/** `--name value` / `--flag` command-line options. */
export function args(): { num(name: string, def: number): number; str(name: string, def: string): string; flag(name: string): boolean; list(name: string, def: number[]): number[] } {
  const argv = process.argv.slice(2);
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    num: (name, def) => Number(get(name) ?? def),
    str: (name, def) => get(name) ?? def,
    flag: (name) => argv.includes(`--${name}`),
    list: (name, def) => (get(name) ? get(name)!.split(',').map(Number) : def),
  };
}

/** Writes bench/results/<name>-<date>.json and replaces this benchmark's section of BENCHMARKS.md. */
export function publish(name: string, results: unknown, markdown: string): void {
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/${name}-${new Date().toISOString().slice(0, 10)}.json`;
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  const md = 'BENCHMARKS.md';
  let doc = existsSync(md) ? readFileSync(md, 'utf8') : '# Benchmarks\n\nEach section is rewritten by its `npm run bench:*` (sources in `bench/`, shared harness `bench/harness.ts`); machine, date and load average are in each section.\n';
  const begin = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const section = `${begin}\n${markdown.trim()}\n\nRaw results: \`${file}\`.\n${end}`;
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  doc = a >= 0 && b > a ? doc.slice(0, a) + section + doc.slice(b + end.length) : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(md, doc);
  console.log(`\nwrote ${file} and updated ${md}`);
}

/**
 * Replaces the `<!-- bench:NAME -->` … `<!-- /bench:NAME -->` section of README.md (a table the
 * README quotes from a benchmark); a README without the markers is left alone.
 */
export function publishReadme(name: string, markdown: string): void {
  const file = 'README.md';
  if (!existsSync(file)) return;
  const doc = readFileSync(file, 'utf8');
  const begin = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) return;
  writeFileSync(file, `${doc.slice(0, a)}${begin}\n${markdown.trim()}\n${end}${doc.slice(b + end.length)}`);
  console.log(`updated the ${name} section of ${file}`);
}
