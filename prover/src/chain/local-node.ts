import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { createPublicClient, http, type Hex } from "viem";
import { ZkinferError } from "../errors.js";
import { projectRoot } from "../util/paths.js";

/**
 * Hardhat's well-known development accounts: public keys printed by every `hardhat node`. They are
 * for the local chain only — anything sent to them on a real chain is taken at once.
 */
export const DEV_KEYS: Hex[] = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
];

/** The chain id of a local dev chain (`hardhat node`), the only chain a dev-SRS build is registered on by default. */
export const LOCAL_CHAIN_ID = 31337;

export class LocalNodeError extends ZkinferError {
  readonly code = "LOCAL_NODE";
}

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface LocalNode {
  url: string;
  /** The node's own process id (not a wrapper's). */
  pid: number;
  stop(): Promise<void>;
}

/**
 * `hardhat node` on 127.0.0.1 (a free port unless one is given): a real JSON-RPC chain on loopback,
 * chain id 31337, automining. Waits (bounded, 60 s) until the node answers; stop() ends the node's
 * own process, and a crash before it answers is reported with the node's last output.
 */
export async function startLocalNode(opts: { port?: number; project?: string } = {}): Promise<LocalNode> {
  const port = opts.port ?? (await freePort());
  // `project`: another Hardhat project's own `hardhat node` (default: this checkout's).
  const cwd = opts.project ?? projectRoot;
  const child: ChildProcess = spawn(
    join(cwd, "node_modules/.bin/hardhat"),
    ["node", "--hostname", "127.0.0.1", "--port", String(port)],
    {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      // Another project's node must not inherit a running Hardhat's HARDHAT_* options (its config path).
      env: opts.project
        ? Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("HARDHAT_")))
        : process.env,
    },
  );
  let output = "";
  // Without a listener, a failed spawn (no node_modules/.bin/hardhat) would crash the whole process.
  let spawnError: Error | undefined;
  child.once("error", (e) => (spawnError = e));
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-4000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  const client = createPublicClient({ transport: http(url, { retryCount: 0, timeout: 1000 }) });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (spawnError)
      throw new LocalNodeError(`cannot start hardhat node: ${spawnError.message}`, {
        hint: "run `npm run setup` (it installs Hardhat into node_modules)",
        cause: spawnError,
      });
    if (child.exitCode !== null)
      throw new LocalNodeError(`hardhat node exited early (code ${child.exitCode})`, {
        hint: `its last output:\n${output}`,
      });
    try {
      await client.getChainId();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new LocalNodeError(`hardhat node did not answer on ${url} within 60 s`, { hint: `its last output:\n${output}` });
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    url,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5000).unref();
      }),
  };
}
