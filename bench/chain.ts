import { offerFor } from "../prover/src/sdk/inference.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeFunctionData, type Address, type Hex, type Log, type TransactionReceipt } from "viem";
import { deployZkinfer } from "../deploy/index.js";
import { halo2VerifierReusableAbi, inferenceCoordinatorAbi, inferenceVerifierAbi } from "../prover/src/chain/abis.js";
import { commitFill, fulfil as fulfilOnChain, lockRequests } from "../prover/src/chain/fulfil.js";
import { NO_LOCK, packInput, requestsInLogs, type Terms } from "../prover/src/sdk/terms.js";
import { readModelVka } from "../prover/src/chain/register.js";
import { readCompiledVerifier } from "../prover/src/models/compile-verifier.js";
import type { ChainClients } from "../prover/src/chain/clients.js";
import type { RegisterResult } from "../prover/src/chain/register.js";
import { decodeInputs, type InferenceProof } from "../prover/src/models/inference.js";
import type { LoadedModel } from "../prover/src/models/store.js";
import { ratio } from "./stats.js";

export interface Suite {
  /** The suite verifier (EZKL's reusable verifier). */
  suiteVerifier: Address;
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
      suiteVerifier: deployment.contracts.Halo2VerifierReusable.address,
      registry: deployment.contracts.ModelRegistry.address,
      verifierRoute: deployment.contracts.InferenceVerifier.address,
      coordinator: deployment.contracts.InferenceCoordinator.address,
    };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

/** A model version registered for the bench (what registerModelVersion returns, as far as the bench needs). */
export type Registered = Pick<RegisterResult, "modelId" | "version" | "verifier" | "txs">;

export interface GasFigures {
  /** gasUsed of mined transactions (not estimateGas, which pads nested calls). */
  /** The build's single-model EZKL verifier, called directly (the baseline; never registered). */
  bareVerifyProof: number;
  /** The suite verifier (EZKL's reusable verifier) called directly with the VKA in calldata. */
  bareReusableVerifyProof: number;
  /** Registration of the version: registerModel + addVersion (VKA stored as code, registered with the suite verifier). */
  registration: number;
  vkaBytes: number;
  routeVerify: number;
  requestInference: number;
  /** `lock` of one request (no collateral). */
  lock: number;
  /** `fulfill` of a request this prover locked (the market's paid path). */
  fulfil: number;
  lockPlusFulfil: number;
  /** `commit` to an open fill (a request never locked, or past its lock deadline). */
  commit: number;
  /** `fulfill` of an open request with the sender's commitment from an earlier block. */
  openFill: number;
  commitPlusOpenFill: number;
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
 * callback), both ways the market pays for: locked first, and committed a block ahead for an open fill.
 * The request's own gas is recorded too.
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

  const single = await readCompiledVerifier(model);
  const deployed = await mined(
    await prover.walletClient.deployContract({
      abi: single.abi,
      bytecode: single.bytecode,
      account: prover.account,
      chain: prover.chain,
    }),
    "single-model verifier deployment",
  );
  const bare = await mined(
    await send(
      deployed.contractAddress!,
      encodeFunctionData({ abi: single.abi, functionName: "verifyProof", args: [proof.proof, instances] }),
    ),
    "bare verifyProof",
  );
  const vka = await readModelVka(model);
  const bareReusable = await mined(
    await send(
      reg.verifier,
      encodeFunctionData({
        abi: halo2VerifierReusableAbi,
        functionName: "verifyProof",
        args: [proof.proof, instances, vka.words],
      }),
    ),
    "bare reusable verifyProof",
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
  const request = () => sendRequest(requester, suite.coordinator, reg, input);
  const req = await request();
  const { requestId, terms } = requestOf(req.logs);
  const { walletClient: w, publicClient: c } = prover;
  const { receipt: lock, claims } = await lockRequests(w, c, suite.coordinator, [{ requestId, terms }]);
  const claim = claims[0]!;
  const fulfilData = encodeFunctionData({
    abi: inferenceCoordinatorAbi,
    functionName: "fulfill",
    args: [requestId, claim.terms, claim.held, proof.proof, instances],
  });
  const fulfil = await mined(await send(suite.coordinator, fulfilData), "fulfill");
  // The open path: a second request, a commitment (mined a block ahead), then the fill.
  const open = requestOf((await request()).logs);
  const commit = await commitFill(w, c, suite.coordinator, [open.requestId], proof.proof);
  const openFill = await fulfilOnChain(
    w,
    c,
    suite.coordinator,
    { requestId: open.requestId, terms: open.terms, held: NO_LOCK },
    proof.proof,
    instances,
    { gas: 5_000_000n },
  );
  const n = (x: bigint) => Number(x);
  return {
    bareVerifyProof: n(bare.gasUsed),
    bareReusableVerifyProof: n(bareReusable.gasUsed),
    registration: reg.txs.reduce((a, t) => a + n(t.gasUsed), 0),
    vkaBytes: vka.words.length * 32,
    routeVerify: n(route.gasUsed),
    requestInference: n(req.gasUsed),
    lock: n(lock.gasUsed),
    fulfil: n(fulfil.gasUsed),
    lockPlusFulfil: n(lock.gasUsed + fulfil.gasUsed),
    commit: n(commit.gasUsed),
    openFill: n(openFill.gasUsed),
    commitPlusOpenFill: n(commit.gasUsed + openFill.gasUsed),
    routeOverBare: ratio(n(route.gasUsed), n(bare.gasUsed)),
    fulfilOverBare: ratio(n(fulfil.gasUsed), n(bare.gasUsed)),
    fulfilCalldataBytes: (fulfilData.length - 2) / 2,
  };
}

/**
 * `requestInferencePacked` (what the SDK's `requestInference` sends) of `input` from an EOA (no callback) for the pinned version at a fixed price of FEE, lockable
 * for 20 minutes of its hour; waits for it to be mined and throws if it reverted.
 */
export async function sendRequest(
  requester: ChainClients,
  coordinator: Address,
  reg: Pick<Registered, "modelId" | "version">,
  input: readonly bigint[],
): Promise<TransactionReceipt> {
  const deadline = (await requester.publicClient.getBlock()).timestamp + 3600n;
  const packed = packInput(input);
  const hash = await requester.walletClient.writeContract({
    address: coordinator,
    abi: inferenceCoordinatorAbi,
    // The packed form, as the SDK's requestInference sends it from an account.
    functionName: "requestInferencePacked",
    args: [reg.modelId, reg.version, packed.width, packed.packed, offerFor(deadline, { fee: FEE }, deadline - 3600n)],
    value: FEE,
    gas: 3_000_000n,
    account: requester.account,
    chain: requester.chain,
  });
  const r = await requester.publicClient.waitForTransactionReceipt({ hash });
  if (r.status !== "success") throw new Error(`requestInference reverted (${hash})`);
  return r;
}

export function requestIdOf(logs: readonly Log[]): bigint {
  return requestOf(logs).requestId;
}

/** The request a `requestInference` receipt made: its id and its terms (which every call on it takes back). */
export function requestOf(logs: readonly Log[]): { requestId: bigint; terms: Terms } {
  const [r] = requestsInLogs([...logs]);
  if (!r) throw new Error("requestInference emitted no InferenceRequested event");
  return { requestId: r.requestId, terms: r.terms };
}
