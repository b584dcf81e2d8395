import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeFunctionData, parseEventLogs, type Address, type Hex } from "viem";
import { deployZkinfer } from "../deploy/index.js";
import { halo2VerifierAbi, inferenceCoordinatorAbi, inferenceVerifierAbi } from "../prover/src/chain/abis.js";
import type { ChainClients } from "../prover/src/chain/clients.js";
import type { RegisterResult } from "../prover/src/chain/register.js";
import { decodeInputs, type InferenceProof } from "../prover/src/models/inference.js";
import type { LoadedModel } from "../prover/src/models/store.js";
import { ratio } from "./stats.js";

export interface Suite {
  registry: Address;
  verifierRoute: Address;
  coordinator: Address;
}

/**
 * Deploy ModelRegistry, the InferenceVerifier route and InferenceCoordinator on the bench's local
 * chain, exactly as `zkinfer deploy` does (Hardhat Ignition, deploy/index.ts). The deployment record
 * goes to a temporary directory, not deploy/deployments.
 */
export async function deploySuite(rpcUrl: string, privateKey: Hex): Promise<Suite> {
  const outDir = mkdtempSync(join(tmpdir(), "zkinfer-bench-deploy-"));
  try {
    const { deployment } = await deployZkinfer({ rpcUrl, privateKey, outDir });
    return {
      registry: deployment.contracts.ModelRegistry.address,
      verifierRoute: deployment.contracts.InferenceVerifier.address,
      coordinator: deployment.contracts.InferenceCoordinator.address,
    };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

/** A model version registered for the bench (what registerModelVersion returns, as far as the bench needs). */
export type Registered = Pick<RegisterResult, "modelId" | "version" | "verifier">;

export interface GasFigures {
  /** gasUsed of mined transactions (not estimateGas, which pads nested calls). */
  bareVerifyProof: number;
  routeVerify: number;
  requestInference: number;
  fulfil: number;
  routeOverBare: number;
  fulfilOverBare: number;
  /** Bytes of the fulfil transaction's calldata. */
  fulfilCalldataBytes: number;
}

export const FEE = 1_000_000_000_000_000n; // 0.001 ETH

/**
 * The gas of one real proof three ways, each as its own mined transaction: the EZKL verifier's
 * `verifyProof` called directly; the route's `verify` (registry lookup, code-hash check, input
 * binding, output decoding); and the coordinator's `fulfill` of a request made by an EOA (so no
 * callback). The request's own gas is recorded too.
 */
export async function measureGas(
  prover: ChainClients,
  requester: ChainClients,
  suite: Suite,
  model: LoadedModel,
  reg: Registered,
  proof: InferenceProof,
): Promise<GasFigures> {
  const input = decodeInputs(model.manifest, proof.instances);
  const instances = [...proof.instances];
  const mined = async (hash: Hex, what: string) => {
    const r = await prover.publicClient.waitForTransactionReceipt({ hash });
    if (r.status !== "success") throw new Error(`${model.manifest.name}: the ${what} transaction reverted (${hash})`);
    return r;
  };
  const send = (to: Address, data: Hex) =>
    prover.walletClient.sendTransaction({ to, data, gas: 5_000_000n, account: prover.account, chain: prover.chain });

  const bare = await mined(
    await send(
      reg.verifier,
      encodeFunctionData({ abi: halo2VerifierAbi, functionName: "verifyProof", args: [proof.proof, instances] }),
    ),
    "bare verifyProof",
  );
  const route = await mined(
    await send(
      suite.verifierRoute,
      encodeFunctionData({
        abi: inferenceVerifierAbi,
        functionName: "verify",
        args: [reg.modelId, reg.version, input, proof.proof, instances],
      }),
    ),
    "route verify",
  );
  const deadline = (await requester.publicClient.getBlock()).timestamp + 3600n;
  const req = await mined(
    await requester.walletClient.writeContract({
      address: suite.coordinator,
      abi: inferenceCoordinatorAbi,
      functionName: "requestInference",
      args: [reg.modelId, 0, input, 0, deadline],
      value: FEE,
      gas: 3_000_000n,
      account: requester.account,
      chain: requester.chain,
    }),
    "requestInference",
  );
  const requestId = requestIdOf(req.logs);
  const fulfilData = encodeFunctionData({
    abi: inferenceCoordinatorAbi,
    functionName: "fulfill",
    args: [requestId, proof.proof, instances],
  });
  const fulfil = await mined(await send(suite.coordinator, fulfilData), "fulfill");
  const n = (x: bigint) => Number(x);
  return {
    bareVerifyProof: n(bare.gasUsed),
    routeVerify: n(route.gasUsed),
    requestInference: n(req.gasUsed),
    fulfil: n(fulfil.gasUsed),
    routeOverBare: ratio(n(route.gasUsed), n(bare.gasUsed)),
    fulfilOverBare: ratio(n(fulfil.gasUsed), n(bare.gasUsed)),
    fulfilCalldataBytes: (fulfilData.length - 2) / 2,
  };
}

export function requestIdOf(logs: Parameters<typeof parseEventLogs>[0]["logs"]): bigint {
  const [event] = parseEventLogs({ abi: inferenceCoordinatorAbi, logs, eventName: "InferenceRequested" });
  if (!event) throw new Error("requestInference emitted no InferenceRequested event");
  return event.args.requestId;
}
