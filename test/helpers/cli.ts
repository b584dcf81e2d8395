import { spawn } from "node:child_process";
import { join } from "node:path";
import { projectRoot } from "../../prover/src/util/paths.js";

export const CLI = join(projectRoot, "bin/zkinfer");

export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run a command as a user would and collect its output. Asynchronous on purpose: a synchronous spawn
 * would block this process's event loop, and with it any RPC proxy or node the test runs in-process.
 * Killed (SIGKILL) after `timeoutMs`.
 */
export function runCommand(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 300_000,
  cwd?: string,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", reject);
    child.once("exit", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** `zkinfer <args>` with the test's environment on top of this process's (and no zkinfer.config.json). */
export function zkinfer(args: string[], env: Record<string, string> = {}, timeoutMs?: number): Promise<CommandResult> {
  return runCommand(CLI, args, { ...process.env, ZKINFER_CONFIG: "", ...env }, timeoutMs);
}
