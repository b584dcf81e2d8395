import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { arch, cpus, loadavg, platform, release, totalmem } from "node:os";
import { join } from "node:path";
import { SOLC_VERSION } from "../prover/src/chain/solc.js";
import { projectRoot } from "../prover/src/util/paths.js";

/** What a result depends on besides the code: recorded in every result file so runs can be compared. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  python: string;
  ezkl: string;
  solc: string;
  hardhat: string;
  git: { commit: string; dirty: boolean; changedFiles: number };
  /**
   * Load: the 1/5/15-minute load averages at the start and at the end, and the 1-minute figure sampled
   * every 5 s during the run. The bench itself accounts for up to about 2 (one proof uses every core);
   * more means other work on the machine competed with it.
   */
  loadAverage: { start: number[]; end: number[]; during: { mean: number; max: number; samples: number } };
}

function git(args: string[]): string {
  try {
    return execFileSync("git", args, { cwd: projectRoot, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}

export function machineInfo(engine: { python: string; ezklVersion: string }): MachineInfo {
  const cpu = cpus();
  const changed = git(["status", "--porcelain"]).split("\n").filter(Boolean);
  const hardhat = JSON.parse(readFileSync(join(projectRoot, "node_modules/hardhat/package.json"), "utf8")) as { version: string };
  return {
    cpus: cpu.length,
    cpuModel: cpu[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()} ${arch()}`,
    node: process.versions.node,
    python: engine.python,
    ezkl: engine.ezklVersion,
    solc: SOLC_VERSION,
    hardhat: hardhat.version,
    git: { commit: git(["rev-parse", "HEAD"]) || "unknown", dirty: changed.length > 0, changedFiles: changed.length },
    loadAverage: { start: loadavg().map(round2), end: [], during: { mean: 0, max: 0, samples: 0 } },
  };
}

export const round2 = (x: number): number => Math.round(x * 100) / 100;

/** Peak resident set size (VmHWM, KiB) of a live process, or undefined when it is gone or not Linux. */
export function peakRssKiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Every live descendant of a process, with its command line (from /proc). */
export function descendants(pid: number): { pid: number; cmdline: string }[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // the process ended while we looked
    }
  }
  const out: { pid: number; cmdline: string }[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parentOf) {
      if (parent !== p) continue;
      let cmdline = "";
      try {
        cmdline = readFileSync(`/proc/${child}/cmdline`, "utf8").replace(/\0/g, " ").trim();
      } catch {
        continue;
      }
      out.push({ pid: child, cmdline });
      walk(child);
    }
  };
  walk(pid);
  return out;
}

export const mib = (kib: number | undefined): number | null => (kib === undefined ? null : Math.round(kib / 1024));

/** Sample the 1-minute load average every 5 s until stopped. */
export function sampleLoad(): () => { mean: number; max: number; samples: number } {
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(loadavg()[0]!), 5000);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (samples.length === 0) samples.push(loadavg()[0]!);
    return {
      mean: round2(samples.reduce((a, b) => a + b, 0) / samples.length),
      max: round2(Math.max(...samples)),
      samples: samples.length,
    };
  };
}
