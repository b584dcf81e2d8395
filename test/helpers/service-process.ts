import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { projectRoot } from "../../prover/src/util/paths.js";

export interface ServiceProcess {
  url: string;
  pid: number;
  /** The last lines the service logged (for failure messages). */
  log(): string;
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
}

/**
 * `zkinfer serve ...` as a separate process, the way an operator runs it; resolves once it listens. `opts.bin`: another
 * `zkinfer` (an installed @zkinfer/prover's), run in `opts.cwd`.
 */
export async function startServiceProcess(
  args: string[],
  env: Record<string, string>,
  opts: { bin?: string; cwd?: string } = {},
): Promise<ServiceProcess> {
  const child: ChildProcess = spawn(opts.bin ?? join(projectRoot, "bin/zkinfer"), ["serve", "--port", "0", ...args], {
    env: { ...process.env, ZKINFER_LOG_LEVEL: "info", ZKINFER_CONFIG: "", ...env },
    cwd: opts.cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  // Enough for every line of a suite's run (tests count log lines); request ids are 78-digit hashes.
  const append = (d: Buffer) => (log = (log + d.toString()).slice(-2_000_000));
  child.stdout!.on("data", append);
  child.stderr!.on("data", append);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`service did not start within 120 s:\n${log}`)), 120_000);
    const check = () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    };
    child.stderr!.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(t);
      reject(new Error(`service exited (${code}) before listening:\n${log}`));
    });
  });
  return {
    url,
    pid: child.pid!,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
  };
}
