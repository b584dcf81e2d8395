import { encodeFunctionData, keccak256, parseEventLogs, type Address, type Hex, type TransactionReceipt } from "viem";
import { join } from "node:path";
import { inferenceCoordinatorAbi } from "../prover/src/chain/abis.js";
import type { ChainClients } from "../prover/src/chain/clients.js";
import { commitFill, fulfil, fulfilBatch, lockRequests, type Claim } from "../prover/src/chain/fulfil.js";
import { readCompiledVerifier } from "../prover/src/models/compile-verifier.js";
import { NO_LOCK, fulfilledOutputs, type Terms } from "../prover/src/sdk/terms.js";
import { outputsHashOf } from "../prover/src/sdk/receipt.js";
import { readModelVka, registerModelVersion, type RegisterResult } from "../prover/src/chain/register.js";
import type { Engine } from "../prover/src/engine/engine.js";
import { parseInput, type ModelInput } from "../prover/src/models/input.js";
import { proveBatch, proveInference, type DecodedOutputs, type InferenceProof } from "../prover/src/models/inference.js";
import type { LoadedModel } from "../prover/src/models/store.js";
import { variantModel } from "../prover/src/models/variants.js";
import type { Progress } from "../prover/src/util/progress.js";
import { calldataGas, suiteVerifyGas, verifyProofData } from "./batch.js";
import { deploySuite, requestOf, sendRequest, type Suite } from "./chain.js";
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

/**
 * The open path at one batch size: N more requests (never locked), one `commit` to the whole batch (one commitment,
 * `fillCommitment(prover, ids, proofHash)`), mined a block ahead, then one `fulfillBatch` with their own proof.
 */
export interface OpenFillPoint {
  requestGas: number[];
  /** One `commit` for the N requests. */
  commitGas: number;
  fulfilBatchGas: number;
  receiptsChecked: number;
  traced: { commit: GasBreakdown; fulfilBatch: GasBreakdown };
  perRequest: {
    request: number;
    commitShare: number;
    fulfilShare: number;
    /** request + commit share + fulfil share. */
    allIn: number;
  };
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
  /** The same batch size the open way: commit + open fill, no lock. */
  open: OpenFillPoint;
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

/** Batch 1 the single-request way: request, lock, `fulfill`; and request, commit, open `fulfill`. */
export interface SingleFulfil {
  requestGas: number;
  lockGas: number;
  fulfilGas: number;
  fulfilCalldataGas: number;
  allIn: number;
  /** The build's single-model EZKL verifier (deployed for this, never registered): `verifyProof` of the same proof. */
  bareVerifyProofGas: number;
  /** `fulfill` of the locked request / the bare single-model `verifyProof` (issue 11's target: ≤ 1.30). */
  fulfilOverBare: number;
  /** The open way: a second request of the same input, `commit`, then `fulfill` with the sender's commitment. */
  open: { requestGas: number; commitGas: number; fulfilGas: number; allIn: number };
  /** Traced: the locked `fulfill`. */
  traced: { fulfil: GasBreakdown };
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
  terms: Terms;
  input: ModelInput;
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
    const { requestId, terms } = requestOf(r.logs);
    const tx = await requester.publicClient.getTransaction({ hash: r.transactionHash });
    return {
      hash: r.transactionHash,
      id: requestId,
      terms,
      input,
      inputCommitment: terms.inputCommitment,
      gas: Number(r.gasUsed),
      calldataGas: calldataGas(tx.input),
    };
  };
  /**
   * N requests of `inputs`, in ascending id order (the order `fulfillBatch` takes them, so block i of the proof is the
   * input of the i-th smallest id: ids are hashes of the terms, not a counter).
   */
  const requestAll = async (inputs: ModelInput[]): Promise<Sent[]> => {
    const sent: Sent[] = [];
    for (const input of inputs) sent.push(await request(input));
    return sent.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  };
  const open = (s: Sent): Claim => ({ requestId: s.id, terms: s.terms, held: NO_LOCK });
  const prove = (batch: number, inputs: ModelInput[], tag: string): Promise<InferenceProof & { blocks: DecodedOutputs[] }> =>
    batch === 1
      ? proveInference(engine, model, inputs[0]!, { out: join(a.work, `${tag}.proof.json`) }).then((p) => ({
          ...p,
          blocks: [p.outputs],
        }))
      : proveBatch(engine, model, batch, inputs, { out: join(a.work, `${tag}.proof.json`) });

  await progress.step("one request fulfilled first, not counted (the prover's credit slot then exists)", async () => {
    const [sent] = await requestAll(take(1));
    const p = await prove(1, [sent!.input], "warm-up");
    const { claims } = await lockRequests(w, c, coordinator, [{ requestId: sent!.id, terms: sent!.terms }]);
    const f = await fulfil(w, c, coordinator, claims[0]!, p.proof, p.instances);
    await checkFulfilled(prover, coordinator, registered, [sent!], p, f, null);
  });

  let single: SingleFulfil | null = null;
  const points: FulfilPoint[] = [];
  for (const batch of a.batches) {
    if (batch === 1) {
      single = await progress.step(
        "batch 1 the single way: request, lock, fulfill; request, commit, open fulfill; the bare single-model verifier",
        async () => {
          const [input] = take(1);
          const [sent] = await requestAll([input!]);
          const lock = await lockRequests(w, c, coordinator, [{ requestId: sent!.id, terms: sent!.terms }]);
          const p = await prove(1, [input!], "single");
          const claim = lock.claims[0]!;
          const f = await fulfil(w, c, coordinator, claim, p.proof, p.instances);
          await checkFulfilled(prover, coordinator, registered, [sent!], p, f, null);
          const data = encodeFunctionData({
            abi: inferenceCoordinatorAbi,
            functionName: "fulfill",
            args: [sent!.id, claim.terms, claim.held, p.proof, [...p.instances]],
          });
          // The open way: the same input asked again (a later block, so other terms and another id), the same proof.
          const [again] = await requestAll([input!]);
          const commit = await commitFill(w, c, coordinator, [again!.id], p.proof);
          const openFill = await fulfil(w, c, coordinator, open(again!), p.proof, p.instances);
          await checkFulfilled(prover, coordinator, registered, [again!], p, openFill, null);
          const bare = await bareSingleVerifyGas(prover, model, p);
          const [lockGas, fulfilGas] = [Number(lock.receipt.gasUsed), Number(f.gasUsed)];
          const [commitGas, openGas] = [Number(commit.gasUsed), Number(openFill.gasUsed)];
          return {
            requestGas: sent!.gas,
            lockGas,
            fulfilGas,
            fulfilCalldataGas: calldataGas(data),
            allIn: sent!.gas + lockGas + fulfilGas,
            bareVerifyProofGas: bare,
            fulfilOverBare: Math.round((fulfilGas / bare) * 1000) / 1000,
            open: { requestGas: again!.gas, commitGas, fulfilGas: openGas, allIn: again!.gas + commitGas + openGas },
            traced: { fulfil: await traceGas(prover, f.transactionHash) },
          };
        },
      );
    }
    points.push(
      await progress.step(
        `batch ${batch}: ${batch} request(s), one lock, one proof, fulfillBatch; ${batch} more, one commit, one proof, open fulfillBatch; receipts checked`,
        async () => {
          const sent = await requestAll(take(batch));
          const ids = sent.map((s) => s.id);
          const lock = await lockRequests(
            w,
            c,
            coordinator,
            sent.map((s) => ({ requestId: s.id, terms: s.terms })),
          );
          const p = await prove(
            batch,
            sent.map((s) => s.input),
            `batch-${batch}`,
          );
          const f = await fulfilBatch(w, c, coordinator, lock.claims, p.proof, p.instances);
          const checked = await checkFulfilled(prover, coordinator, registered, sent, p, f, batch);
          const vka = (await readModelVka(variantModel(model, batch))).words;
          const verifyData = verifyProofData(p.proof, p.instances, vka);
          const verifyGas = await suiteVerifyGas(a.owner, suite.suiteVerifier, vka, verifyData);
          const data = encodeFunctionData({
            abi: inferenceCoordinatorAbi,
            functionName: "fulfillBatch",
            args: [ids, lock.claims.map((x) => x.terms), lock.claims.map((x) => x.held), p.proof, [...p.instances]],
          });
          const requestGas = sent.map((s) => s.gas);
          const [lockGas, fulfilBatchGas] = [Number(lock.receipt.gasUsed), Number(f.gasUsed)];
          const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
          const total = sum(requestGas) + lockGas + fulfilBatchGas;
          const per = (g: number) => Math.round(g / batch);
          const traced = {
            request: await traceGas(requester, sent[0]!.hash),
            lock: await traceGas(prover, lock.receipt.transactionHash),
            fulfilBatch: await traceGas(prover, f.transactionHash),
          };

          // The open way: N more requests (the next held-out inputs), one commitment to all of them, their own proof.
          const more = await requestAll(take(batch));
          const q = await prove(
            batch,
            more.map((s) => s.input),
            `open-${batch}`,
          );
          const commit = await commitFill(
            w,
            c,
            coordinator,
            more.map((s) => s.id),
            q.proof,
          );
          const g = await fulfilBatch(w, c, coordinator, more.map(open), q.proof, q.instances);
          const openChecked = await checkFulfilled(prover, coordinator, registered, more, q, g, batch);
          const openRequestGas = more.map((s) => s.gas);
          const [commitGas, openFulfilGas] = [Number(commit.gasUsed), Number(g.gasUsed)];
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
              request: per(sum(requestGas)),
              lockShare: per(lockGas),
              fulfilShare: per(fulfilBatchGas),
              allIn: per(total),
              coordinator: per(fulfilBatchGas - verifyGas),
            },
            open: {
              requestGas: openRequestGas,
              commitGas,
              fulfilBatchGas: openFulfilGas,
              receiptsChecked: openChecked,
              traced: {
                commit: await traceGas(prover, commit.transactionHash),
                fulfilBatch: await traceGas(prover, g.transactionHash),
              },
              perRequest: {
                request: per(sum(openRequestGas)),
                commitShare: per(commitGas),
                fulfilShare: per(openFulfilGas),
                allIn: per(sum(openRequestGas) + commitGas + openFulfilGas),
              },
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
 * Every request of a fulfilment: its stored receipt is the one built from its terms, the prover, this block's time and
 * the hash of exactly the outputs its block of the proof decodes to (`checkReceipt`); its `InferenceFulfilled` carries
 * those outputs; for a batch, one `BatchFulfilled` lists the requests in block order. Throws on any difference;
 * returns how many were checked.
 */
async function checkFulfilled(
  prover: ChainClients,
  coordinator: Address,
  reg: Pick<RegisterResult, "modelId" | "version">,
  sent: Sent[],
  proof: { proof: Hex; blocks: DecodedOutputs[] },
  tx: TransactionReceipt,
  batch: number | null,
): Promise<number> {
  const { blocks } = proof;
  if (blocks.length !== sent.length) throw new Error(`${sent.length} requests but ${blocks.length} claimed blocks`);
  const events = parseEventLogs({ abi: inferenceCoordinatorAbi, logs: tx.logs, eventName: "InferenceFulfilled" });
  if (events.length !== sent.length) throw new Error(`${events.length} InferenceFulfilled events for ${sent.length} requests`);
  const me = prover.account.address.toLowerCase();
  const { timestamp } = await prover.publicClient.getBlock({ blockNumber: tx.blockNumber });
  for (const [i, s] of sent.entries()) {
    const want = blocks[i]!.fixed;
    const e = events[i]!.args;
    const outputs = fulfilledOutputs(e);
    if (e.requestId !== s.id || e.fulfiller.toLowerCase() !== me || outputs.join() !== want.join()) {
      throw new Error(
        `request ${s.id} (block ${i}): InferenceFulfilled ${e.requestId} by ${e.fulfiller} with ${outputs.join(",")}; expected ${want.join(",")}`,
      );
    }
    if (s.terms.modelId !== reg.modelId || s.terms.version !== reg.version)
      throw new Error(`request ${s.id}: its terms name ${s.terms.modelId} v${s.terms.version}`);
    const ok = await prover.publicClient.readContract({
      address: coordinator,
      abi: inferenceCoordinatorAbi,
      functionName: "checkReceipt",
      args: [
        s.id,
        {
          modelId: reg.modelId,
          version: reg.version,
          inputCommitment: s.inputCommitment,
          outputsHash: outputsHashOf(want),
          proofHash: keccak256(proof.proof),
          fulfiller: prover.account.address,
          fulfilledAt: timestamp,
          callback: 0, // None: the requester is an EOA
        },
      ],
    });
    if (!ok)
      throw new Error(
        `request ${s.id} (block ${i}): the stored receipt is not the one of the proof's block, this prover and block`,
      );
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

/** The build's single-model EZKL verifier deployed by the prover, and `verifyProof` of `p` sent to it: mined gasUsed. */
async function bareSingleVerifyGas(clients: ChainClients, model: LoadedModel, p: InferenceProof): Promise<number> {
  const single = await readCompiledVerifier(model);
  const { walletClient: w, publicClient: c } = clients;
  const deployed = await c.waitForTransactionReceipt({
    hash: await w.deployContract({ abi: single.abi, bytecode: single.bytecode, account: clients.account, chain: clients.chain }),
  });
  if (deployed.status !== "success" || !deployed.contractAddress)
    throw new Error("the single-model verifier's deployment reverted");
  const r = await c.waitForTransactionReceipt({
    hash: await w.sendTransaction({
      to: deployed.contractAddress,
      data: encodeFunctionData({ abi: single.abi, functionName: "verifyProof", args: [p.proof, [...p.instances]] }),
      gas: 5_000_000n,
      account: clients.account,
      chain: clients.chain,
    }),
  });
  if (r.status !== "success") throw new Error("the bare single-model verifyProof reverted");
  return Number(r.gasUsed);
}
