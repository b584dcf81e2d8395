import { createRequire } from "node:module";
import { keccak256, type Abi, type Hex } from "viem";
import { SOLC_SETTINGS, SOLC_VERSION } from "../chain/solc.js";
import { EzklError } from "../errors.js";

const require = createRequire(import.meta.url);

export interface CompiledVerifier {
  contractName: string;
  abi: Abi;
  bytecode: Hex;
  deployedBytecode: Hex;
  /** Runtime code size in bytes (EIP-170 allows 24,576). */
  deployedSize: number;
  /** keccak256 of the runtime code: what `extcodehash` of a deployment returns (no immutables). */
  codeHash: Hex;
  compiler: string;
}

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[];
  contracts?: Record<
    string,
    Record<string, { abi: Abi; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>
  >;
}

/** Compile an EZKL-generated verifier with the project's solc and settings. */
export function compileVerifier(source: string, fileName = "Verifier.sol"): CompiledVerifier {
  const solc = require("solc") as { compile(input: string): string };
  const input = {
    language: "Solidity",
    sources: { [fileName]: { content: source } },
    settings: {
      ...SOLC_SETTINGS,
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) {
    throw new EzklError("compile verifier", errors.map((e) => e.formattedMessage).join("\n"));
  }
  const contracts = output.contracts?.[fileName] ?? {};
  const [contractName, c] = Object.entries(contracts)[0] ?? [];
  if (!contractName || !c) throw new EzklError("compile verifier", `no contract in ${fileName}`);
  const deployedBytecode = `0x${c.evm.deployedBytecode.object}` as Hex;
  return {
    contractName,
    abi: c.abi,
    bytecode: `0x${c.evm.bytecode.object}` as Hex,
    deployedBytecode,
    deployedSize: (deployedBytecode.length - 2) / 2,
    codeHash: keccak256(deployedBytecode),
    compiler: `solc ${SOLC_VERSION} (optimizer ${SOLC_SETTINGS.optimizer.runs} runs, ${SOLC_SETTINGS.evmVersion})`,
  };
}
