/**
 * npm run replay -- <fixture or folder>… [--url ws://host:port/media] [--speed 1|max] [--out dir]
 *
 * Plays the caller side of recorded calls into the server (in process with the offline engines by
 * default) as Twilio would, prints a per-turn table per call, writes `<out>/<fixture>.json` and
 * `<out>/<fixture>.wav`, and exits non-zero when any call misses its expect.json.
 */
// The environment is read by config loading only (AGENT_CONFIG and its default live there).
import { loadServerConfig } from '../../src/config/env.js';
import { loadAgentConfig } from '../../src/config/load-agent-config.js';
import { formatReport } from '../replay-report.js';
import { runReplays } from '../replay-runner.js';

const USAGE = 'usage: npm run replay -- <fixture or folder>… [--url ws://host:port/media] [--speed 1|max] [--out dir]';

function parseArgs(argv: string[]): { paths: string[]; url?: string; pace: 'realtime' | 'max'; outDir: string } {
  const paths: string[] = [];
  let url: string | undefined;
  let pace: 'realtime' | 'max' = 'realtime';
  let outDir = 'replay-out';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    if (arg === '--url') url = value();
    else if (arg === '--out') outDir = value();
    else if (arg === '--speed') {
      const speed = value();
      if (speed !== '1' && speed !== 'max') throw new Error(`--speed is 1 or max, not ${speed}\n${USAGE}`);
      pace = speed === 'max' ? 'max' : 'realtime';
    } else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}\n${USAGE}`);
    else paths.push(arg);
  }
  if (paths.length === 0) throw new Error(USAGE);
  if (url && !/^wss?:\/\//.test(url)) throw new Error(`--url must be a ws:// or wss:// media URL, not ${url}`);
  return { paths, ...(url ? { url } : {}), pace, outDir };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const tty = process.stderr.isTTY;
  const reports = await runReplays({
    ...args,
    ...(args.url ? {} : { agent: loadAgentConfig(loadServerConfig(process.env).agentConfigPath) }),
    onProgress: (fixture, p) => {
      if (!tty) return;
      const line = `  ${fixture}: caller audio ${(p.sentMs / 1000).toFixed(1)} / ${(p.totalMs / 1000).toFixed(1)} s, agent utterances ${p.agentUtterances}`;
      process.stderr.write(`\r${line.padEnd(80)}`);
    },
    onReport: (report) => {
      if (tty) process.stderr.write(`\r${' '.repeat(80)}\r`);
      console.log(formatReport(report) + '\n');
    },
  });
  const failed = reports.filter((r) => !r.ok);
  console.log(`${reports.length - failed.length}/${reports.length} calls met their expectations; reports and WAVs in ${args.outDir}/`);
  process.exit(failed.length > 0 ? 1 : 0);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(2);
});
