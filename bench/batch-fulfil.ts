import {
  encodeAbiParameters,
  encodeFunctionData,
  keccak256,
  parseEventLogs,
  type Address,
  type Hex,
  type TransactionReceipt,
} from "viem";
import { join } from "node:path";
import { inferenceCoordinatorAbi } from "../prover/src/chain/abis.js";
import type { ChainClients } from "../prover/src/chain/clients.js";
import { fulfil, fulfilBatch, lockRequests } from "../prover/src/chain/fulfil.js";
import { readModelVka, registerModelVersion, type RegisterResult } from "../prover/src/chain/register.js";
import type { Engine } from "../prover/src/engine/engine.js";
import { parseInput, type ModelInput } from "../prover/src/models/input.js";
import { proveBatch, proveInference, type DecodedOutputs, type InferenceProof } from "../prover/src/models/inference.js";
import type { LoadedModel } from "../prover/src/models/store.js";
import { variantModel } from "../prover/src/models/variants.js";
import type { Progress } from "../prover/src/util/progress.js";
import { calldataGas, suiteVerifyGas, verifyProofData } from "./batch.js";
import { deploySuite, requestIdOf, sendRequest, type Suite } from "./chain.js";
import { leastSquares } from "./stats.js";
import { traceGas, type GasBreakdown } from "./trace.js";

/** The gas of registering one version: registerModel (a new model) + addVersion, each a mined transaction. */
export interface RegistrationGas {
  registerModel: number;
  addVersion: number;
  total: number;
  /** The batch sizes of the variants registered with the version (empty: the version alone). */
  variants: number[];
}

/** One batch size fulfilled end to end: N requests, one lock, one proof, one fulfillBatch. All gas is mined gasUsed. */
export interface FulfilPoint {
  batch: number;
  /** Each request's `requestInference`, in block order. */
  requestGas: number[];
  /** The calldata gas of each request (its input is calldata). */
  requestCalldataGas: number[];
  /** One `lock` of all N requests. */
  lockGas: number;
  fulfilBatchGas: number;
  fulfilBatchCalldataBytes: number;
  fulfilBatchCalldataGas: number;
  /** The suite verifier's `verifyProof` of the same proof sent directly, the VKA in calldata. */
  verifyGas: number;
  verifyCalldataGas: number;
  /** Public instances of the proof (all blocks). */
  instances: number;
  vkaWords: number;
  /** This point's one proof (n=1, not interleaved: the interleaved prove times are the batch figures'). */
  proveMs: number;
  /** Requests whose receipt and `InferenceFulfilled` outputs were checked against the proof's blocks. */
  receiptsChecked: number;
  /** Traced: the first request, the lock and the fulfilment (`debug_traceTransaction`). */
  traced: { request: GasBreakdown; lock: GasBreakdown; fulfilBatch: GasBreakdown };
  perRequest: {
    request: number;
    lockShare: number;
    fulfilShare: number;
    /** request + lock share + fulfil share: the gas of one verified inference. */
    allIn: number;
    /** (fulfillBatch − bare verifyProof) / N: what the coordinator adds per request to the verifier's own cost. */
    coordinator: number;
  };
}

/** Batch 1 the single-request way: request, lock, `fulfill`. */
export interface SingleFulfil {
  requestGas: number;
  lockGas: number;
  fulfilGas: number;
  fulfilCalldataGas: number;
  allIn: number;
}

export interface BatchFulfilFigures {
  model: string;
  version: number;
  /** Public instances of one inference (one block). */
  instancesPerInference: number;
  registration: { withVariants: RegistrationGas; withoutVariants: RegistrationGas };
  points: FulfilPoint[];
  single: SingleFulfil | null;
  /**
   * Where the fulfilment gas goes, as least-squares lines through the points: the bare verifier's gas against its
   * public instances (one VKA shape), the coordinator's addition (fulfillBatch − verifyProof) and the lock against
   * the number of requests.
   */
  fits: {
    verifier: { fixed: number; perInstance: number } | null;
    coordinator: { fixed: number; perRequest: number };
    lock: { fixed: number; perRequest: number };
  } | null;
}

/** The suite the batch figures run on, with the model's version (and its variants) registered. */
export interface BatchSuite {
  suite: Suite;
  registered: RegisterResult;
  registration: BatchFulfilFigures["registration"];
}

const gasOf = (txs: RegisterResult["txs"], label: string): number => {
  const t = txs.find((x) => x.label === label);
  if (!t) throw new Error(`registration sent no ${label} transaction`);
  return Number(t.gasUsed);
};

function registrationGas(r: RegisterResult): RegistrationGas {
  const registerModel = gasOf(r.txs, "registerModel");
  const addVersion = gasOf(r.txs, "addVersion");
  return { registerModel, addVersion, total: registerModel + addVersion, variants: r.variants.map((v) => v.batchSize) };
}

/**
 * Two fresh suites on the bench's chain (Ignition, as `zkinfer deploy`): on one, the model registered through the real
 * registry with every variant in its manifest (one version holding them); on the other the same build without its
 * variants, so that the two registrations' gas compare on equal terms (a VKA already stored by an earlier version is
 * reused, so both must be the first of their VKAs).
 */
export async function setUpBatchSuite(a: {
  rpcUrl: string;
  deployerKey: Hex;
  owner: ChainClients;
  model: LoadedModel;
}): Promise<BatchSuite> {
  const suite = await deploySuite(a.rpcUrl, a.deployerKey);
  const bare = await deploySuite(a.rpcUrl, a.deployerKey);
  const alone: LoadedModel = { ...a.model, manifest: { ...a.model.manifest, variants: [] } };
  const withoutVariants = registrationGas(await registerModelVersion(a.owner, bare.registry, alone));
  const registered = await registerModelVersion(a.owner, suite.registry, a.model);
  const want = a.model.manifest.variants.map((v) => v.batch).sort((x, y) => x - y);
  if (registered.variants.map((v) => v.batchSize).join() !== want.join()) {
    throw new Error(
      `the registry recorded variants ${registered.variants.map((v) => v.batchSize).join(", ")}; the manifest has ${want.join(", ")}`,
    );
  }
  return { suite, registered, registration: { withVariants: registrationGas(registered), withoutVariants } };
}

/** One request as the bench sends it: its id, its commitment and its gas. */
interface Sent {
  hash: Hex;
  id: bigint;
  inputCommitment: Hex;
  gas: number;
  calldataGas: number;
}

/**
 * For each batch size: N real requests (held-out inputs, from an EOA), locked in one `lock`, proved once with the
 * variant (`proveBatch`; `proveInference` at batch 1), fulfilled with one `fulfillBatch`, every receipt checked
 * against the outputs the proof's block decodes to; and the same proof sent bare to the suite verifier. At batch 1 a
 * second request goes the single way (`lock`, `fulfill`). One request is fulfilled first and not counted, so the
 * prover's credit slot exists, as for a prover that has been running.
 */
export async function measureBatchFulfilment(a: {
  engine: Engine;
  model: LoadedModel;
  heldout: number[][];
  batches: number[];
  setUp: BatchSuite;
  owner: ChainClients;
  prover: ChainClients;
  requester: ChainClients;
  work: string;
  progress: Progress;
}): Promise<BatchFulfilFigures> {
  const { engine, model, progress, prover, requester } = a;
  const { suite, registered } = a.setUp;
  const m = model.manifest;
  const coordinator = suite.coordinator;
  const { walletClient: w, publicClient: c } = prover;
  let next = 100; // held-out samples from here on; the interleaved prove rounds use the first ones
  const take = (n: number): ModelInput[] => Array.from({ length: n }, () => parseInput(a.heldout[next++ % a.heldout.length]!, m));

  const request = async (input: ModelInput): Promise<Sent> => {
    const r = await sendRequest(requester, coordinator, registered, input.fixed);
    const [event] = parseEventLogs({ abi: inferenceCoordinatorAbi, logs: r.logs, eventName: "InferenceRequested" });
    const tx = await requester.publicClient.getTransaction({ hash: r.transactionHash });
    return {
      hash: r.transactionHash,
      id: requestIdOf(r.logs),
      inputCommitment: event!.args.inputCommitment,
      gas: Number(r.gasUsed),
      calldataGas: calldataGas(tx.input),
    };
  };
  const prove = (batch: number, inputs: ModelInput[], tag: string): Promise<InferenceProof & { blocks: DecodedOutputs[] }> =>
    batch === 1
      ? proveInference(engine, model, inputs[0]!, { out: join(a.work, `${tag}.proof.json`) }).then((p) => ({
          ...p,
          blocks: [p.outputs],
        }))
      : proveBatch(engine, model, batch, inputs, { out: join(a.work, `${tag}.proof.json`) });

  await progress.step("one request fulfilled first, not counted (the prover's credit slot then exists)", async () => {
    const [input] = take(1);
    const sent = await request(input!);
    const p = await prove(1, [input!], "warm-up");
    await lockRequests(w, c, coordinator, [sent.id]);
    const f = await fulfil(w, c, coordinator, sent.id, p.proof, p.instances);
    await checkFulfilled(prover, coordinator, registered, [sent], p.blocks, f, null);
  });

  let single: SingleFulfil | null = null;
  const points: FulfilPoint[] = [];
  for (const batch of a.batches) {
    if (batch === 1) {
      single = await progress.step("batch 1 the single way: request, lock, fulfill", async () => {
        const [input] = take(1);
        const sent = await request(input!);
        const lock = await lockRequests(w, c, coordinator, [sent.id]);
        const p = await prove(1, [input!], "single");
        const f = await fulfil(w, c, coordinator, sent.id, p.proof, p.instances);
        await checkFulfilled(prover, coordinator, registered, [sent], p.blocks, f, null);
        const data = encodeFunctionData({
          abi: inferenceCoordinatorAbi,
          functionName: "fulfill",
          args: [sent.id, p.proof, [...p.instances]],
        });
        const [lockGas, fulfilGas] = [Number(lock.gasUsed), Number(f.gasUsed)];
        return {
          requestGas: sent.gas,
          lockGas,
          fulfilGas,
          fulfilCalldataGas: calldataGas(data),
          allIn: sent.gas + lockGas + fulfilGas,
        };
      });
    }
    points.push(
      await progress.step(
        `batch ${batch}: ${batch} request(s), one lock, one proof, fulfillBatch, receipts checked`,
        async () => {
          const inputs = take(batch);
          const sent: Sent[] = [];
          for (const input of inputs) sent.push(await request(input));
          const ids = sent.map((s) => s.id);
          const lock = await lockRequests(w, c, coordinator, ids);
          const p = await prove(batch, inputs, `batch-${batch}`);
          const f = await fulfilBatch(w, c, coordinator, ids, p.proof, p.instances);
          const checked = await checkFulfilled(prover, coordinator, registered, sent, p.blocks, f, batch);
          const vka = (await readModelVka(variantModel(model, batch))).words;
          const verifyData = verifyProofData(p.proof, p.instances, vka);
          const verifyGas = await suiteVerifyGas(a.owner, suite.suiteVerifier, vka, verifyData);
          const data = encodeFunctionData({
            abi: inferenceCoordinatorAbi,
            functionName: "fulfillBatch",
            args: [ids, p.proof, [...p.instances]],
          });
          const requestGas = sent.map((s) => s.gas);
          const [lockGas, fulfilBatchGas] = [Number(lock.gasUsed), Number(f.gasUsed)];
          const total = requestGas.reduce((x, y) => x + y, 0) + lockGas + fulfilBatchGas;
          const per = (g: number) => Math.round(g / batch);
          const traced = {
            request: await traceGas(requester, sent[0]!.hash),
            lock: await traceGas(prover, lock.transactionHash),
            fulfilBatch: await traceGas(prover, f.transactionHash),
          };
          return {
            batch,
            requestGas,
            requestCalldataGas: sent.map((s) => s.calldataGas),
            lockGas,
            fulfilBatchGas,
            fulfilBatchCalldataBytes: (data.length - 2) / 2,
            fulfilBatchCalldataGas: calldataGas(data),
            verifyGas,
            verifyCalldataGas: calldataGas(verifyData),
            instances: p.instances.length,
            vkaWords: vka.length,
            proveMs: Math.round(p.timingsMs.prove),
            receiptsChecked: checked,
            traced,
            perRequest: {
              request: per(requestGas.reduce((x, y) => x + y, 0)),
              lockShare: per(lockGas),
              fulfilShare: per(fulfilBatchGas),
              allIn: per(total),
              coordinator: per(fulfilBatchGas - verifyGas),
            },
          };
        },
      ),
    );
  }
  return {
    model: m.name,
    version: registered.version,
    instancesPerInference: m.circuit.numInstances,
    registration: a.setUp.registration,
    points,
    single,
    fits: fits(points),
  };
}

function fits(points: FulfilPoint[]): BatchFulfilFigures["fits"] {
  if (new Set(points.map((p) => p.batch)).size < 2) return null;
  const ns = points.map((p) => p.batch);
  const coordinator = leastSquares(
    ns,
    points.map((p) => p.fulfilBatchGas - p.verifyGas),
  );
  const lock = leastSquares(
    ns,
    points.map((p) => p.lockGas),
  );
  const shapes = new Set(points.map((p) => p.vkaWords));
  const verifier =
    shapes.size === 1
      ? leastSquares(
          points.map((p) => p.instances),
          points.map((p) => p.verifyGas),
        )
      : null;
  return {
    verifier: verifier ? { fixed: Math.round(verifier.intercept), perInstance: Math.round(verifier.slope * 10) / 10 } : null,
    coordinator: { fixed: Math.round(coordinator.intercept), perRequest: Math.round(coordinator.slope) },
    lock: { fixed: Math.round(lock.intercept), perRequest: Math.round(lock.slope) },
  };
}

/**
 * Every request of a fulfilment: its receipt names the version, its input commitment, the prover, and the hash of
 * exactly the outputs its block of the proof decodes to; its `InferenceFulfilled` carries those outputs; for a batch,
 * one `BatchFulfilled` lists the requests in block order. Throws on any difference; returns how many were checked.
 */
async function checkFulfilled(
  prover: ChainClients,
  coordinator: Address,
  reg: Pick<RegisterResult, "modelId" | "version">,
  sent: Sent[],
  blocks: DecodedOutputs[],
  tx: TransactionReceipt,
  batch: number | null,
): Promise<number> {
  if (blocks.length !== sent.length) throw new Error(`${sent.length} requests but ${blocks.length} claimed blocks`);
  const events = parseEventLogs({ abi: inferenceCoordinatorAbi, logs: tx.logs, eventName: "InferenceFulfilled" });
  if (events.length !== sent.length) throw new Error(`${events.length} InferenceFulfilled events for ${sent.length} requests`);
  const me = prover.account.address.toLowerCase();
  for (const [i, s] of sent.entries()) {
    const want = blocks[i]!.fixed;
    const e = events[i]!.args;
    if (e.requestId !== s.id || e.fulfiller.toLowerCase() !== me || e.outputs.join() !== want.join()) {
      throw new Error(
        `request ${s.id} (block ${i}): InferenceFulfilled ${e.requestId} by ${e.fulfiller} with ${e.outputs.join(",")}; expected ${want.join(",")}`,
      );
    }
    const r = await prover.publicClient.readContract({
      address: coordinator,
      abi: inferenceCoordinatorAbi,
      functionName: "receipt",
      args: [s.id],
    });
    const outputsHash = keccak256(encodeAbiParameters([{ type: "int256[]" }], [want]));
    const problems = [
      r.modelId !== reg.modelId && "model",
      r.version !== reg.version && "version",
      r.inputCommitment !== s.inputCommitment && "input commitment",
      r.outputsHash !== outputsHash && "outputs hash",
      r.fulfiller.toLowerCase() !== me && "fulfiller",
    ].filter(Boolean);
    if (problems.length)
      throw new Error(`request ${s.id} (block ${i}): the receipt's ${problems.join(", ")} differ from the proof's block`);
  }
  if (batch !== null) {
    const [b] = parseEventLogs({ abi: inferenceCoordinatorAbi, logs: tx.logs, eventName: "BatchFulfilled" });
    if (!b || b.args.batchSize !== batch || b.args.requestIds.join() !== sent.map((s) => s.id).join()) {
      throw new Error(
        `fulfillBatch: BatchFulfilled ${b ? `batch ${b.args.batchSize} [${b.args.requestIds.join(",")}]` : "missing"}`,
      );
    }
  }
  return sent.length;
}
