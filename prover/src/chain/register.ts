import { BaseError, ContractFunctionRevertedError, parseEventLogs, type Address, type Hash, type Hex } from "viem";
import { ArtifactError, InvalidModelError, UserInputError } from "../errors.js";
import type { Manifest } from "../models/manifest.js";
import { inputSpan, outputSpan } from "../models/tensors.js";
import type { LoadedModel } from "../models/store.js";
import { readCompiledVerifier } from "../models/compile-verifier.js";
import { registeredBlockLayoutProblem, variantModel } from "../models/variants.js";
import { readVka, type Vka } from "../models/vka.js";
import { silentProgress, type Progress } from "../util/progress.js";
import { modelRegistryAbi } from "./abis.js";
import type { ChainClients } from "./clients.js";
import { LOCAL_CHAIN_ID } from "./local-node.js";

export { readCompiledVerifier };

/** A registration that would record an untrustworthy or repeated version; refused unless overridden. */
export class RegistrationRefusedError extends UserInputError {
  override readonly code = "REGISTRATION_REFUSED";
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
  /** The suite verifier that checks the version's proofs. */
  verifier: Address;
  /** The contract holding the version's VKA. */
  vka: Address;
  vkaDigest: Hex;
  ceremonySrs: boolean;
  /** The batch variants registered with the version (batch size, VKA digest), ascending. */
  variants: { batchSize: number; vkaDigest: Hex }[];
  owner: Address;
  txs: TxRecord[];
}

/** A metric (accuracy, MAE, ...) as an integer: metric * 10^4, as the registry stores it. */
export const metricToBps = (x: number | null | undefined): number =>
  x === undefined || x === null || !Number.isFinite(x) ? 0 : Math.round(x * 10_000);

/** The registry's VersionParams for a built model (its VKA goes alongside, see `registerModelVersion`). */
export function versionParams(m: Manifest, metadataURI: string) {
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
    srs: m.srs.provenance,
  })}`;
}

/** The model's VKA, checked against the manifest's digest. */
export async function readModelVka(model: LoadedModel): Promise<Vka> {
  const vka = await readVka(model.file("vka"));
  if (vka.digest !== model.manifest.vka.digest) {
    throw new ArtifactError(`${model.file("vka")} does not match the manifest's VKA digest`, {
      hint: "rebuild the model: zkinfer model build --force <source>",
    });
  }
  return vka;
}

/**
 * The manifest's batch variants as `addVersion` takes them, each VKA checked against its manifest digest. The
 * registry derives every block's place from the batch-1 layout (inputs, then outputs), which holds for one input
 * and one output tensor; a model with more is refused here with the reason, before any transaction.
 */
export async function variantParams(model: LoadedModel): Promise<{ batchSize: number; vka: Hex[] }[]> {
  const m = model.manifest;
  if (m.variants.length === 0) return [];
  const problem = registeredBlockLayoutProblem(m.circuit.instanceLayout);
  if (problem) {
    throw new RegistrationRefusedError(
      `'${m.name}' has ${problem}; batch variants can be registered only for a model with one of each (the registry places block i of each tensor from the batch-1 layout)`,
      { hint: `rebuild without --batch (zkinfer model build --force ${m.name}) and register the batch-1 circuit alone` },
    );
  }
  const list = [];
  for (const v of [...m.variants].sort((a, b) => a.batch - b.batch)) {
    list.push({ batchSize: v.batch, vka: (await readModelVka(variantModel(model, v.batch))).words });
  }
  return list;
}

export interface RegisterOptions {
  metadataURI?: string;
  /** Register a dev-SRS build on a chain other than the local dev chain (31337). */
  allowDevSrs?: boolean;
  /** Register even if the model already has a version with this VKA digest. */
  force?: boolean;
  progress?: Progress;
}

/**
 * `zkinfer model register`: register the model under the signer's account if it is new, and add an
 * immutable version: its VKA (stored on-chain and registered with the suite verifier by the
 * registry) and every manifest hash. No verifier is deployed. A dev-SRS build is refused on any
 * chain but the local dev chain unless `allowDevSrs`; a build already registered (same VKA digest)
 * is refused unless `force`.
 */
export async function registerModelVersion(
  clients: ChainClients,
  registry: Address,
  model: LoadedModel,
  opts: RegisterOptions = {},
): Promise<RegisterResult> {
  const progress = opts.progress ?? silentProgress;
  const { publicClient, walletClient, account } = clients;
  const m = model.manifest;
  const name = m.name;
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
  if (m.srs.provenance === "dev" && clients.chain.id !== LOCAL_CHAIN_ID && !opts.allowDevSrs) {
    throw new RegistrationRefusedError(
      `'${name}' was built on a dev SRS (generated on the build machine, whoever kept its secret can forge proofs); refusing to register it on chain ${clients.chain.id}`,
      {
        hint: `import the ceremony SRS (zkinfer srs import <file> --logrows ${m.srs.logrows}), rebuild, and register again; or pass --allow-dev-srs for a throwaway test deployment`,
      },
    );
  }
  const vka = await readModelVka(model);
  const variants = await variantParams(model);

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
  const params = versionParams(m, opts.metadataURI ?? defaultMetadataURI(m));
  const receipt = await progress.step(
    `add the version (VKA ${vka.words.length} words, digest ${vka.digest.slice(0, 10)}…${
      variants.length ? `; batch variants ${variants.map((v) => v.batchSize).join(", ")}` : ""
    })`,
    async () => {
      let request;
      try {
        ({ request } = await publicClient.simulateContract({
          account,
          address: registry,
          abi: modelRegistryAbi,
          functionName: "addVersion",
          args: [modelId, params, vka.words, variants, opts.force ?? false],
        }));
      } catch (e) {
        const revert = e instanceof BaseError ? e.walk((x) => x instanceof ContractFunctionRevertedError) : null;
        if (revert instanceof ContractFunctionRevertedError && revert.data?.errorName === "RegistryVersionDuplicate") {
          const existing = (revert.data.args as readonly unknown[] | undefined)?.[2];
          throw new RegistrationRefusedError(
            `version ${String(existing)} of '${name}' already has this build (VKA digest ${vka.digest}); refusing to add an identical version`,
            { hint: "pass --force to add it anyway (e.g. to move it to a new suite verifier)" },
          );
        }
        throw e;
      }
      return send("addVersion", await walletClient.writeContract(request));
    },
  );
  const [event] = parseEventLogs({ abi: modelRegistryAbi, logs: receipt.logs, eventName: "VersionRegistered" });
  if (!event) throw new ArtifactError("addVersion succeeded but emitted no VersionRegistered event");
  const target = await publicClient.readContract({
    address: registry,
    abi: modelRegistryAbi,
    functionName: "verificationTarget",
    args: [modelId, event.args.version],
  });
  return {
    modelId,
    version: Number(event.args.version),
    name,
    registry,
    verifier: target.verifier,
    vka: event.args.vka,
    vkaDigest: event.args.vkaDigest,
    ceremonySrs: event.args.ceremonySrs,
    variants: parseEventLogs({ abi: modelRegistryAbi, logs: receipt.logs, eventName: "VariantRegistered" }).map((e) => ({
      batchSize: Number(e.args.batchSize),
      vkaDigest: e.args.vkaDigest,
    })),
    owner: account.address,
    txs,
  };
}
