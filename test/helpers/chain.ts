import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Abi, Address, Hex } from "viem";
import { readCompiledVerifier } from "../../prover/src/models/compile-verifier.js";
import type { LoadedModel } from "../../prover/src/models/store.js";
import { projectRoot } from "../../prover/src/util/paths.js";

export { DEV_KEYS, startLocalNode as startHardhatNode, type LocalNode } from "../../prover/src/chain/local-node.js";

interface DeployingWallet {
  deployContract(args: { abi: Abi; bytecode: Hex; args: readonly unknown[] }): Promise<Hex>;
}
interface ReceiptReader {
  waitForTransactionReceipt(args: { hash: Hex }): Promise<{ contractAddress?: Address | null; gasUsed: bigint }>;
}

/**
 * Deploy a built model's single-model EZKL verifier (the exact bytecode the build compiled): the
 * baseline the suite verifier's gas is compared with; never registered.
 */
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
