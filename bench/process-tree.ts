/**
 * CPU and RSS of a process and everything it started (a cluster primary, its workers, their
 * decoder children), read from /proc, so a server that runs as several processes is measured the
 * same way as one that runs as one. CPU of a child that exits between two samples is lost; the
 * processes measured here (workers, decoders, the floor server) live for the whole level.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times: 100 on every Linux this runs on (USER_HZ). */
const TICKS_PER_SECOND = 100;

interface ProcStat { pid: number; ppid: number; cpuTicks: number; rssPages: number }

function readStat(pid: number): ProcStat | null {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: split after the last ')'.
    const fields = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    // Fields after the name start at "state" (3rd field of the man page): ppid is 4th, utime 14th,
    // stime 15th, rss 24th.
    return { pid, ppid: Number(fields[1]), cpuTicks: Number(fields[11]) + Number(fields[12]), rssPages: Number(fields[21]) };
  } catch {
    return null;
  }
}

/** Every live process whose ancestry reaches `root`, `root` included. */
export function processTree(root: number): ProcStat[] {
  const all = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) all.set(stat.pid, stat);
  }
  const children = new Map<number, number[]>();
  for (const s of all.values()) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s.pid]);
  const out: ProcStat[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    const stat = all.get(pid);
    if (!stat) continue;
    out.push(stat);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

const PAGE_BYTES = 4096;

export interface TreeSample { at: number; cpuMs: number; rssBytes: number; processes: number }

export function sampleTree(root: number): TreeSample {
  const tree = processTree(root);
  return {
    at: performance.now(),
    cpuMs: (tree.reduce((a, s) => a + s.cpuTicks, 0) * 1000) / TICKS_PER_SECOND,
    rssBytes: tree.reduce((a, s) => a + s.rssPages, 0) * PAGE_BYTES,
    processes: tree.length,
  };
}

/** Samples a process tree every `everyMs` until stopped: CPU used between start and stop, peak RSS. */
export class TreeMonitor {
  private readonly first: TreeSample;
  private last: TreeSample;
  private peakRss: number;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly root: number, everyMs = 500) {
    this.first = sampleTree(root);
    this.last = this.first;
    this.peakRss = this.first.rssBytes;
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  private sample(): void {
    const s = sampleTree(this.root);
    this.last = s;
    this.peakRss = Math.max(this.peakRss, s.rssBytes);
  }

  stop(): { wallMs: number; cpuMs: number; cpuPercent: number; rssBeforeBytes: number; peakRssBytes: number; processes: number } {
    clearInterval(this.timer);
    this.sample();
    const wallMs = this.last.at - this.first.at;
    const cpuMs = this.last.cpuMs - this.first.cpuMs;
    return {
      wallMs: Math.round(wallMs),
      cpuMs: Math.round(cpuMs),
      cpuPercent: wallMs > 0 ? Math.round((cpuMs / wallMs) * 1000) / 10 : 0,
      rssBeforeBytes: this.first.rssBytes,
      peakRssBytes: this.peakRss,
      processes: this.last.processes,
    };
  }
}
