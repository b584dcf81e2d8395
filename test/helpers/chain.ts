import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { createPublicClient, http, type Abi, type Address, type Hex } from "viem";
import { readCompiledVerifier } from "../../prover/src/chain/register.js";
import type { LoadedModel } from "../../prover/src/models/store.js";
import { projectRoot } from "../../prover/src/util/paths.js";

/** Hardhat's well-known development accounts (public test keys; never use them on a real chain). */
export const DEV_KEYS: Hex[] = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
];

interface DeployingWallet {
  deployContract(args: { abi: Abi; bytecode: Hex; args: readonly unknown[] }): Promise<Hex>;
}
interface ReceiptReader {
  waitForTransactionReceipt(args: { hash: Hex }): Promise<{ contractAddress?: Address | null; gasUsed: bigint }>;
}

/** Deploy a built model's EZKL verifier (the exact bytecode the build compiled). */
export async function deployModelVerifier(wallet: DeployingWallet, reader: ReceiptReader, model: LoadedModel): Promise<Address> {
  const compiled = await readCompiledVerifier(model);
  const hash = await wallet.deployContract({ abi: compiled.abi, bytecode: compiled.bytecode, args: [] });
  const receipt = await reader.waitForTransactionReceipt({ hash });
  if (!receipt.contractAddress) throw new Error("verifier deployment created no contract");
  return receipt.contractAddress;
}

/** The ABI in a project contract's Hardhat artifact (for test-only contracts the TypeScript side never uses). */
export function artifactAbi(artifact: string): Abi {
  return (JSON.parse(readFileSync(join(projectRoot, "artifacts/contracts", `${artifact}.json`), "utf8")) as { abi: Abi }).abi;
}

/** Deploy a project contract from its Hardhat artifact (for tests against a JSON-RPC node). */
export async function deployFromArtifact(
  wallet: DeployingWallet,
  reader: ReceiptReader,
  artifact: string,
  args: readonly unknown[] = [],
): Promise<Address> {
  const { abi, bytecode } = JSON.parse(readFileSync(join(projectRoot, "artifacts/contracts", `${artifact}.json`), "utf8")) as {
    abi: Abi;
    bytecode: Hex;
  };
  const hash = await wallet.deployContract({ abi, bytecode, args });
  const receipt = await reader.waitForTransactionReceipt({ hash });
  if (!receipt.contractAddress) throw new Error(`deploying ${artifact} created no contract`);
  return receipt.contractAddress;
}

async function freePort(): Promise<number> {
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
  pid: number;
  stop(): Promise<void>;
}

/**
 * `hardhat node` on 127.0.0.1 at a free port, for tests of code that talks JSON-RPC. Waits (bounded)
 * until the node answers; stop() kills the node's own process.
 */
export async function startHardhatNode(): Promise<LocalNode> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    join(projectRoot, "node_modules/.bin/hardhat"),
    ["node", "--hostname", "127.0.0.1", "--port", String(port)],
    {
      cwd: projectRoot,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr!.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const client = createPublicClient({ transport: http(url, { retryCount: 0, timeout: 1000 }) });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`hardhat node exited early (${child.exitCode}):\n${output}`);
    try {
      await client.getChainId();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`hardhat node did not answer on ${url} within 60 s:\n${output}`);
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
