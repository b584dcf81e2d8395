import { readFile } from "node:fs/promises";
import { keccak256, parseEventLogs, type Address, type Hash, type Hex } from "viem";
import { ArtifactError, InvalidModelError, UserInputError } from "../errors.js";
import type { Manifest } from "../models/manifest.js";
import { inputSpan, outputSpan } from "../models/tensors.js";
import type { LoadedModel } from "../models/store.js";
import type { CompiledVerifier } from "../models/compile-verifier.js";
import { silentProgress, type Progress } from "../util/progress.js";
import { modelRegistryAbi } from "./abis.js";
import type { ChainClients } from "./clients.js";
import { EIP170_CODE_LIMIT } from "./solc.js";

export class VerifierTooLargeError extends UserInputError {
  override readonly code = "VERIFIER_TOO_LARGE";
}

export interface TxRecord {
  label: string;
  hash: Hash;
  gasUsed: bigint;
}

export interface RegisterResult {
  modelId: Hex;
  version: number;
  name: string;
  registry: Address;
  verifier: Address;
  owner: Address;
  txs: TxRecord[];
}

/** A metric (accuracy, MAE, ...) as an integer: metric * 10^4, as the registry stores it. */
export const metricToBps = (x: number | null | undefined): number =>
  x === undefined || x === null || !Number.isFinite(x) ? 0 : Math.round(x * 10_000);

/** The registry's VersionParams for a built model and its deployed verifier. */
export function versionParams(m: Manifest, verifier: Address, metadataURI: string) {
  const inp = { ...inputSpan(m), scale: m.circuit.instanceLayout.inputs[0]!.scale };
  const out = { ...outputSpan(m), scale: m.circuit.instanceLayout.outputs[0]!.scale };
  const scales = new Set(m.circuit.instanceLayout.outputs.map((t) => t.scale));
  if (scales.size > 1) {
    throw new InvalidModelError(`model '${m.name}' has output tensors at different scales (${[...scales].join(", ")})`, {
      hint: "the registry records one output scale: rescale the outputs to one scale in the export, then build again",
    });
  }
  const b32 = (h: string) => `0x${h}` as Hex;
  return {
    modelHash: b32(m.hashes.model),
    settingsHash: b32(m.hashes.settings),
    circuitHash: b32(m.hashes.circuit),
    srsHash: b32(m.hashes.srs),
    vkHash: b32(m.hashes.vk),
    verifier,
    verifierCodeHash: m.verifier.codeHash as Hex,
    inputScale: inp.scale,
    outputScale: out.scale,
    layout: {
      instanceCount: m.circuit.numInstances,
      inputOffset: inp.offset,
      inputCount: inp.count,
      outputOffset: out.offset,
      outputCount: out.count,
    },
    floatMetricBps: metricToBps(m.accuracy?.float),
    circuitMetricBps: metricToBps(m.accuracy?.circuit),
    metadataURI,
  } as const;
}

/** A short data: URI naming what the bps figures mean and which build this is. */
export function defaultMetadataURI(m: Manifest): string {
  return `data:application/json,${JSON.stringify({
    name: m.name,
    metric: m.accuracy ? `${m.accuracy.metric} x1e4 on ${m.accuracy.samples} held-out samples` : null,
    ezkl: m.ezklVersion,
    buildKey: m.buildKey,
  })}`;
}

export async function readCompiledVerifier(model: LoadedModel): Promise<CompiledVerifier> {
  const compiled = JSON.parse(await readFile(model.file("verifierArtifact"), "utf8")) as CompiledVerifier;
  compiled.deployedSize = (compiled.deployedBytecode.length - 2) / 2; // from the bytes, not the JSON's word
  if (keccak256(compiled.deployedBytecode) !== model.manifest.verifier.codeHash) {
    throw new ArtifactError(`${model.file("verifierArtifact")} does not match the manifest's verifier code hash`, {
      hint: "rebuild the model: zkinfer model build --force <source>",
    });
  }
  return compiled;
}

/** Deploy the model's EZKL verifier; checks EIP-170 first and the deployed code hash after. */
export async function deployVerifier(clients: ChainClients, model: LoadedModel): Promise<{ address: Address; tx: TxRecord }> {
  const m = model.manifest;
  const compiled = await readCompiledVerifier(model);
  if (compiled.deployedSize > EIP170_CODE_LIMIT) {
    throw new VerifierTooLargeError(
      `the verifier of '${m.name}' is ${compiled.deployedSize} bytes of runtime code, over EIP-170's ${EIP170_CODE_LIMIT}-byte limit; no chain will deploy it`,
      { hint: "shrink the circuit (fewer parameters, smaller input, lower logrows) and build again" },
    );
  }
  const hash = await clients.walletClient.deployContract({ abi: compiled.abi, bytecode: compiled.bytecode, args: [] });
  const receipt = await clients.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success" || !receipt.contractAddress) {
    throw new ArtifactError(`deploying the verifier of '${m.name}' failed (tx ${hash})`);
  }
  const code = await clients.publicClient.getCode({ address: receipt.contractAddress });
  if (!code || keccak256(code) !== m.verifier.codeHash) {
    throw new ArtifactError(`the deployed verifier at ${receipt.contractAddress} does not have the manifest's code hash`);
  }
  return { address: receipt.contractAddress, tx: { label: "deploy verifier", hash, gasUsed: receipt.gasUsed } };
}

/**
 * `zkinfer model register`: deploy the verifier, register the model under the signer's account if
 * it is new, and add an immutable version holding every manifest hash.
 */
export async function registerModelVersion(
  clients: ChainClients,
  registry: Address,
  model: LoadedModel,
  opts: { metadataURI?: string; progress?: Progress } = {},
): Promise<RegisterResult> {
  const progress = opts.progress ?? silentProgress;
  const { publicClient, walletClient, account } = clients;
  const name = model.manifest.name;
  const txs: TxRecord[] = [];
  const send = async (label: string, hash: Hash) => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new ArtifactError(`${label} reverted (tx ${hash})`);
    txs.push({ label, hash, gasUsed: receipt.gasUsed });
    return receipt;
  };

  const registryCode = await publicClient.getCode({ address: registry });
  if (!registryCode || registryCode === "0x") {
    throw new UserInputError(`no contract at the registry address ${registry} on chain ${clients.chain.id}`, {
      hint: "deploy the suite first, or set ZKINFER_REGISTRY to the ModelRegistry's address on this chain",
    });
  }
  const { address: verifier, tx } = await progress.step("deploy the verifier", () => deployVerifier(clients, model));
  txs.push(tx);

  const modelId = await publicClient.readContract({
    address: registry,
    abi: modelRegistryAbi,
    functionName: "computeModelId",
    args: [account.address, name],
  });
  const exists = await publicClient.readContract({
    address: registry,
    abi: modelRegistryAbi,
    functionName: "modelExists",
    args: [modelId],
  });
  if (!exists) {
    await progress.step(`register model '${name}'`, async () => {
      const { request } = await publicClient.simulateContract({
        account,
        address: registry,
        abi: modelRegistryAbi,
        functionName: "registerModel",
        args: [name],
      });
      await send("registerModel", await walletClient.writeContract(request));
    });
  }
  const params = versionParams(model.manifest, verifier, opts.metadataURI ?? defaultMetadataURI(model.manifest));
  const receipt = await progress.step("add the version", async () => {
    const { request } = await publicClient.simulateContract({
      account,
      address: registry,
      abi: modelRegistryAbi,
      functionName: "addVersion",
      args: [modelId, params],
    });
    return send("addVersion", await walletClient.writeContract(request));
  });
  const [event] = parseEventLogs({ abi: modelRegistryAbi, logs: receipt.logs, eventName: "VersionRegistered" });
  if (!event) throw new ArtifactError("addVersion succeeded but emitted no VersionRegistered event");
  return { modelId, version: Number(event.args.version), name, registry, verifier, owner: account.address, txs };
}
