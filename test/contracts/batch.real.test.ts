import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  decodeAbiParameters,
  encodeAbiParameters,
  encodeFunctionData,
  getAddress,
  keccak256,
  parseEventLogs,
  sliceHex,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
} from "viem";
import { halo2VerifierReusableAbi, inferenceCoordinatorAbi } from "../../prover/src/chain/abis.js";
import { variantParams, versionParams, readModelVka } from "../../prover/src/chain/register.js";
import { feltToInt } from "../../prover/src/engine/felt.js";
import { decodeInputs, proveBatch, type BatchProof } from "../../prover/src/models/inference.js";
import { parseInput, type ModelInput } from "../../prover/src/models/input.js";
import { readJson, type Heldout } from "../../prover/src/models/source.js";
import { variantModel } from "../../prover/src/models/variants.js";
import { readVka } from "../../prover/src/models/vka.js";
import { verifyReceipt } from "../../prover/src/sdk/receipt.js";
import { verifyReceiptLocally } from "../../prover/src/sdk/verify-local.js";
import { projectRoot } from "../../prover/src/util/paths.js";
import { checkGasSnapshot, type GasFigures } from "../helpers/gas.js";
import { builtExampleBatches, exampleSource, sharedEngine } from "../helpers/models.js";
import { revertOf } from "../helpers/revert.js";
import { receiptOf } from "../helpers/receipt.js";
import { deploySuite } from "../helpers/suite.js";
import {
  NO_LOCK,
  fulfilledOutputs,
  locksInLogs,
  requestsInLogs,
  type LockState,
  type Terms,
} from "../../prover/src/sdk/terms.js";

/**
 * Batched fulfilment with real EZKL batch proofs of digits-mlp on Hardhat's EVM: one version registered with
 * its batch-4 and batch-8 variants, requests made through test consumers (each with its own callback), and
 * `fulfillBatch` checking one proof for 4, 8, and 3-of-4 (padded) requests. Every consumer must receive exactly its
 * own outputs. The tampering a prover could try is rejected with named errors. No mocks.
 */
const FEE = 10_000_000_000_000_000n; // 0.01 ETH
const CALLBACK_GAS = 600_000; // RecordingConsumer stores the 10 outputs: about 250k
const INPUTS = 64;
const OUTPUTS = 10;
const SNAPSHOT = join(projectRoot, "test/gas/batch.json");

describe("batched fulfilment with real EZKL batch proofs (Hardhat EVM)", function () {
  let suite: Awaited<ReturnType<typeof deploySuite>>;
  let inputs: ModelInput[];
  let fixed: bigint[][];
  let b4: BatchProof;
  let padded: BatchProof;
  let b8: BatchProof;
  let modelId: Hex;
  let scratch: string;
  const gas: GasFigures = { "digits-mlp": {} };

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), "zkinfer-batch-proofs-"));
    suite = await deploySuite();
    const model = await builtExampleBatches("digits-mlp");
    const heldout = await readJson<Heldout>((await exampleSource("digits-mlp")).heldout!, "heldout.json");
    inputs = heldout.inputs.slice(0, 8).map((x) => parseInput(x, model.manifest));
    b4 = await proveBatch(sharedEngine(), model, 4, inputs.slice(0, 4), { out: join(scratch, "b4.proof.json") });
    padded = await proveBatch(sharedEngine(), model, 4, inputs.slice(0, 3), { out: join(scratch, "padded.proof.json") });
    b8 = await proveBatch(sharedEngine(), model, 8, inputs, { out: join(scratch, "b8.proof.json") });
    // Each input as the fixed-point integers a request carries: the batch-8 proof's blocks, as the circuit read them.
    const all = decodeInputs(variantModel(model, 8).manifest, b8.instances);
    fixed = inputs.map((_, i) => all.slice(i * INPUTS, (i + 1) * INPUTS));

    // One version of digits-mlp holding its batch-4 and batch-8 variants, as `zkinfer model register` adds it.
    const { registry, publicClient, admin } = suite;
    await publicClient.waitForTransactionReceipt({ hash: await registry.write.registerModel(["digits-mlp"]) });
    modelId = await registry.read.computeModelId([admin.account.address, "digits-mlp"]);
    // The build's cache may hold more variants (the bench builds 16): the version takes 4 and 8.
    const variants = (await variantParams(model)).filter((v) => v.batchSize === 4 || v.batchSize === 8);
    expect(variants.map((v) => v.batchSize)).to.deep.equal([4, 8]);
    const added = await publicClient.waitForTransactionReceipt({
      hash: await registry.write.addVersion([
        modelId,
        versionParams(model.manifest, ""),
        (await readModelVka(model)).words,
        variants,
        false,
      ]),
    });
    expect(added.status).to.equal("success");
    gas["digits-mlp"]!.addVersionWithVariants4And8 = Number(added.gasUsed);
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  const mined = async (hash: Promise<Hex> | Hex): Promise<TransactionReceipt> => {
    const r = await suite.publicClient.waitForTransactionReceipt({ hash: await hash });
    expect(r.status).to.equal("success");
    return r;
  };
  const prover = () => suite.wallets[2]!;
  const deadline = async () => BigInt(await suite.networkHelpers.time.latest()) + 3600n;

  /** Every request's terms and lock, as the calls on it take them back. */
  const claims = new Map<bigint, { terms: Terms; held: LockState }>();
  const ID_SPACE = 1n << 256n;

  /**
   * One consumer per input, each requesting `version` on its input with a callback; all locked by the prover in one
   * `lock`. The proofs are made once, for a fixed block order, and `fulfillBatch` takes its requests in ascending id
   * order, but ids are hashes of the terms: so request i is asked again (a later block: other terms, another id) until
   * its id falls in slice `slots[i]` of `of` equal slices of the id space, which orders the ids as the blocks. (A prover
   * sorts the requests first and proves in that order, as the bench and the service do.)
   */
  async function requests(forInputs: readonly bigint[][], version = 1, slots?: readonly number[], of?: number) {
    const consumers = [];
    const ids: bigint[] = [];
    const n = BigInt(of ?? forInputs.length);
    for (const [i, input] of forInputs.entries()) {
      const slot = BigInt(slots?.[i] ?? i);
      const consumer = await suite.viem.deployContract("RecordingConsumer", [suite.coordinator.address]);
      for (let tries = 0; ; tries++) {
        if (tries > 200) throw new Error(`no request id in slice ${slot} of ${n} after 200 requests`);
        const r = await mined(
          consumer.write.request([modelId, version, input, CALLBACK_GAS, await deadline()], {
            value: FEE,
            account: suite.wallets[3]!.account,
          }),
        );
        const [made] = requestsInLogs(r.logs);
        if ((made!.requestId * n) / ID_SPACE !== slot) continue; // stays open, never fulfilled
        claims.set(made!.requestId, { terms: made!.terms, held: NO_LOCK });
        consumers.push(consumer);
        ids.push(made!.requestId);
        break;
      }
    }
    const locked = await mined(
      suite.coordinator.write.lock([ids, ids.map((id) => claims.get(id)!.terms)], { account: prover().account }),
    );
    for (const [id, held] of locksInLogs(locked.logs)) claims.get(id)!.held = held;
    return { consumers, ids };
  }

  /** `fulfillBatch` of `ids` with their terms and locks passed back. */
  const fulfilBatchArgs = (ids: readonly bigint[], proof: Hex, instances: readonly bigint[]) =>
    [[...ids], ids.map((id) => claims.get(id)!.terms), ids.map((id) => claims.get(id)!.held), proof, [...instances]] as const;
  const fulfilBatch = (ids: readonly bigint[], proof: Hex, instances: readonly bigint[]) =>
    suite.coordinator.write.fulfillBatch(fulfilBatchArgs(ids, proof, instances), { account: prover().account });

  /** Checks each request's receipt, event and callback against its block, and the one BatchFulfilled. */
  async function expectFulfilled(
    r: TransactionReceipt,
    batch: BatchProof,
    ids: readonly bigint[],
    consumers: Awaited<ReturnType<typeof requests>>["consumers"],
  ) {
    const events = parseEventLogs({ abi: inferenceCoordinatorAbi, logs: r.logs, eventName: "InferenceFulfilled" });
    expect(events.map((e) => e.args.requestId)).to.deep.equal(ids);
    const [one, ...more] = parseEventLogs({ abi: inferenceCoordinatorAbi, logs: r.logs, eventName: "BatchFulfilled" });
    expect(more).to.have.length(0);
    expect(one!.args.requestIds).to.deep.equal(ids);
    expect(one!.args.batchSize).to.equal(batch.batch);
    expect(one!.args.proofHash).to.equal(keccak256(batch.proof));
    for (const [i, id] of ids.entries()) {
      const own = batch.blocks[i]!.fixed;
      expect(fulfilledOutputs(events[i]!.args), `request ${id}: event`).to.deep.equal(own);
      expect(await consumers[i]!.read.lastOutputs(), `request ${id}: callback`).to.deep.equal(own);
      expect(await consumers[i]!.read.lastRequestId()).to.equal(id);
      expect(await consumers[i]!.read.calls()).to.equal(1n);
      const receipt = await receiptOf(suite.publicClient, id, claims.get(id)!.terms, r);
      expect(receipt.callback).to.equal(1); // Succeeded
      expect(receipt.fulfiller).to.equal(getAddress(prover().account.address));
      expect(receipt.proofHash).to.equal(keccak256(batch.proof));
      expect(receipt.outputsHash).to.equal(keccak256(encodeAbiParameters([{ type: "int256[]" }], [own])));
      expect(await suite.coordinator.read.checkReceipt([id, receipt]), `request ${id}: stored receipt`).to.equal(true);
      expect(await suite.coordinator.read.checkReceipt([id, { ...receipt, outputsHash: keccak256("0x") }])).to.equal(false);
    }
  }

  it("gives each block the outputs batch 1 gives its input alone", async () => {
    const model = await builtExampleBatches("digits-mlp");
    const alone = await sharedEngine().witnessBatch({
      inputs: inputs.slice(0, 4).map((i) => i.values),
      compiled: model.file("circuit"),
      scratch: join(scratch, "alone"),
    });
    expect(b4.blocks).to.have.length(4);
    expect(padded.blocks).to.have.length(3);
    for (const [i, w] of alone.entries()) {
      expect(b4.blocks[i]!.fixed, `block ${i}`).to.deep.equal(w.outputs.flat().map(feltToInt));
      expect(b8.blocks[i]!.fixed, `batch-8 block ${i}`).to.deep.equal(b4.blocks[i]!.fixed);
      if (i < 3) expect(padded.blocks[i]!.fixed, `padded block ${i}`).to.deep.equal(b4.blocks[i]!.fixed);
    }
    // The unclaimed block is zero input, proved like any other: only the request list tells padding from a request.
    expect(decodeInputs(variantModel(model, 4).manifest, padded.instances).slice(3 * INPUTS)).to.deep.equal(
      new Array(INPUTS).fill(0n),
    );
  });

  it("the registry holds both variants with the version, and the suite verifier accepts each with its VKA", async () => {
    const model = await builtExampleBatches("digits-mlp");
    const list = await suite.registry.read.variants([modelId, 1]);
    expect(list.map((v) => v.batchSize)).to.deep.equal([4, 8]);
    for (const [batch, proof] of [
      [4, b4],
      [8, b8],
    ] as const) {
      const variant = variantModel(model, batch);
      expect(list.find((v) => v.batchSize === batch)!.vkaDigest).to.equal(variant.manifest.vka.digest);
      const words = (await readVka(variant.file("vka"))).words;
      const { data } = await suite.publicClient.call({
        to: suite.suiteVerifier.address,
        data: encodeFunctionData({
          abi: halo2VerifierReusableAbi,
          functionName: "verifyProof",
          args: [proof.proof, [...proof.instances], words],
        }),
      });
      // EZKL's raw return memory: (success, digest, ...); only the first two words are read.
      const [ok, digest] = decodeAbiParameters([{ type: "bool" }, { type: "bytes32" }], sliceHex(data!, 0, 64));
      expect(ok).to.equal(true);
      expect(digest).to.equal(variant.manifest.vka.digest);
      // The bare verification as a mined transaction, beside fulfillBatch's gas.
      const bare = await mined(
        suite.admin.sendTransaction({
          to: suite.suiteVerifier.address,
          data: encodeFunctionData({
            abi: halo2VerifierReusableAbi,
            functionName: "verifyProof",
            args: [proof.proof, [...proof.instances], words],
          }),
        }),
      );
      gas["digits-mlp"]![`bareVerifyProofBatch${batch}`] = Number(bare.gasUsed);
    }
  });

  it("fulfils 4 requests with one batch-4 proof: each consumer receives exactly its own outputs", async () => {
    const { consumers, ids } = await requests(fixed.slice(0, 4));
    const r = await mined(fulfilBatch(ids, b4.proof, b4.instances));
    await expectFulfilled(r, b4, ids, consumers);
    gas["digits-mlp"]!.fulfillBatch4Of4 = Number(r.gasUsed);
    sdkChecked = ids;
  });

  let sdkChecked: bigint[] = [];
  it("the SDK re-checks a batched receipt from the chain alone, and with EZKL against the local variant", async () => {
    const ids = sdkChecked;
    expect(ids, "the batch-4 fulfilment ran").to.have.length(4);
    // The SDK re-checks a batched receipt from the chain alone, and with EZKL against the local variant.
    const client = suite.publicClient as unknown as PublicClient;
    const checked = await verifyReceipt(client, { coordinator: suite.coordinator.address, requestId: ids[2]! });
    expect(checked.checks.filter((c) => !c.ok)).to.deep.equal([]);
    expect(checked.valid).to.equal(true);
    expect(checked.fulfilment.batch).to.deep.equal({ size: 4, index: 2 });
    expect(checked.input).to.deep.equal(fixed[2]);
    const local = await verifyReceiptLocally(sharedEngine(), await builtExampleBatches("digits-mlp"), checked.fulfilment, {
      client,
      registry: suite.registry.address,
    });
    expect(local.checks.map((c) => [c.name, c.ok])).to.deep.equal([
      ["verifying key", true],
      ["batch-4 variant", true],
      ["proof (EZKL)", true],
    ]);
  });

  it("fulfils 8 requests with one batch-8 proof", async () => {
    const { consumers, ids } = await requests(fixed);
    const r = await mined(fulfilBatch(ids, b8.proof, b8.instances));
    await expectFulfilled(r, b8, ids, consumers);
    gas["digits-mlp"]!.fulfillBatch8Of8 = Number(r.gasUsed);
  });

  it("fulfils 3 requests with a batch-4 proof whose fourth block is padding", async () => {
    const { consumers, ids } = await requests(fixed.slice(0, 3));
    const r = await mined(fulfilBatch(ids, padded.proof, padded.instances));
    await expectFulfilled(r, padded, ids, consumers);
    gas["digits-mlp"]!.fulfillBatch3Of4 = Number(r.gasUsed);
  });

  it("a request on its own costs what the gas snapshot holds", async () => {
    const r = await mined(
      suite.coordinator.write.requestInference(
        [
          modelId,
          1,
          fixed[0]!,
          {
            minPrice: 0n,
            rampPeriod: 0,
            lockTimeout: 1800,
            lockCollateral: 0n,
            callbackGasLimit: 0,
            deadline: await deadline(),
          },
        ],
        { value: FEE, account: suite.wallets[3]!.account },
      ),
    );
    gas["digits-mlp"]!.requestInference = Number(r.gasUsed);
    checkGasSnapshot(SNAPSHOT, gas, [
      "requestInference",
      "fulfillBatch4Of4",
      "fulfillBatch8Of8",
      "fulfillBatch3Of4",
      "addVersionWithVariants4And8",
    ]);
  });

  describe("a prover cannot make one proof serve the wrong requests", () => {
    /** Instances with blocks i and j exchanged, inputs with their outputs, as if two requests swapped places. */
    function swapBlocks(instances: readonly bigint[], batch: number, i: number, j: number): bigint[] {
      const out = [...instances];
      for (const [offset, count] of [
        [0, INPUTS],
        [INPUTS * batch, OUTPUTS],
      ] as const) {
        for (let k = 0; k < count; k++) {
          out[offset + i * count + k] = instances[offset + j * count + k]!;
          out[offset + j * count + k] = instances[offset + i * count + k]!;
        }
      }
      return out;
    }

    it("two blocks swapped: in the instances VerifierProofRejected; against the request order CoordinatorBlockInputMismatch", async () => {
      const { ids } = await requests(fixed.slice(0, 4));
      const swapped = await revertOf(fulfilBatch(ids, b4.proof, swapBlocks(b4.instances, 4, 0, 1)));
      expect(swapped.errorName).to.equal("VerifierProofRejected");
      // Requests made in the order (input 1, input 0, ...): the proof's block 0 is not the first request's input.
      const reordered = await requests([fixed[1]!, fixed[0]!, fixed[2]!, fixed[3]!]);
      const r = await revertOf(fulfilBatch(reordered.ids, b4.proof, b4.instances));
      expect(r.errorName).to.equal("CoordinatorBlockInputMismatch");
      expect(r.args![0]).to.equal(reordered.ids[0]);
      expect(r.args![1]).to.equal(0n);
    });

    it("a request settled since the batch was proved fails the batch before the verification is paid for", async () => {
      const { ids } = await requests(fixed.slice(0, 4));
      await mined(fulfilBatch(ids, b4.proof, b4.instances));
      const again = await revertOf(fulfilBatch(ids, b4.proof, b4.instances));
      expect(again.errorName).to.equal("CoordinatorRequestAlreadyFulfilled");
      expect(again.args).to.deep.equal([ids[0]]);
      // With too little gas for the verification (the bare verifyProof of this proof alone uses more), the same
      // named error: the request's state is checked before the proof, so a sender who lost a race pays for its
      // calldata and the state checks, not for the verification.
      const cap = BigInt(Math.floor(gas["digits-mlp"]!.bareVerifyProofBatch4! / 2));
      const capped = await revertOf(
        suite.coordinator.simulate.fulfillBatch(fulfilBatchArgs(ids, b4.proof, b4.instances), {
          account: prover().account.address,
          gas: cap,
        }),
      );
      expect(capped.errorName).to.equal("CoordinatorRequestAlreadyFulfilled");
    });

    it("one block claimed by two requests: CoordinatorBatchDuplicateRequest", async () => {
      const { ids } = await requests(fixed.slice(0, 3));
      const r = await revertOf(fulfilBatch([ids[0]!, ids[0]!, ids[1]!, ids[2]!], b4.proof, b4.instances));
      expect(r.errorName).to.equal("CoordinatorBatchDuplicateRequest");
      expect(r.args).to.deep.equal([ids[0]]);
      // Out of order: the same requests, the first two exchanged.
      const swapped = await revertOf(fulfilBatch([ids[1]!, ids[0]!, ids[2]!], padded.proof, padded.instances));
      expect(swapped.errorName).to.equal("CoordinatorBatchNotAscending");
      expect(swapped.args).to.deep.equal([ids[0], ids[1]]);
    });

    it("forged terms or a forged lock for one request of the batch: CoordinatorTermsMismatch(requestId, Locked)", async () => {
      const { ids } = await requests(fixed.slice(0, 4));
      const [terms, held] = [ids.map((id) => claims.get(id)!.terms), ids.map((id) => claims.get(id)!.held)];
      for (const [what, t, h] of [
        ["a higher escrow", terms.map((x, i) => (i === 2 ? { ...x, maxPrice: x.maxPrice * 2n } : x)), held],
        ["a later deadline", terms.map((x, i) => (i === 2 ? { ...x, deadline: x.deadline + 3600n } : x)), held],
        [
          "another locker",
          terms,
          held.map((x, i) => (i === 2 ? { ...x, locker: getAddress(suite.wallets[3]!.account.address) } : x)),
        ],
        ["a higher locked price", terms, held.map((x, i) => (i === 2 ? { ...x, price: x.price + 1n } : x))],
      ] as const) {
        const r = await revertOf(
          suite.coordinator.write.fulfillBatch([[...ids], [...t], [...h], b4.proof, [...b4.instances]], {
            account: prover().account,
          }),
        );
        expect(r.errorName, what).to.equal("CoordinatorTermsMismatch");
        expect(r.args, what).to.deep.equal([ids[2], 4]);
      }
      // The true ones fulfil them.
      await mined(fulfilBatch(ids, b4.proof, b4.instances));
    });

    it("a request of another version in the batch: CoordinatorBatchVersionMismatch", async () => {
      // Version 2: the same build added again (--force), without variants.
      const model = await builtExampleBatches("digits-mlp");
      await mined(
        suite.registry.write.addVersion([
          modelId,
          versionParams(model.manifest, ""),
          (await readModelVka(model)).words,
          [],
          true,
        ]),
      );
      const onOne = await requests(fixed.slice(0, 1), 1, [0], 4);
      const onTwo = await requests(fixed.slice(1, 2), 2, [1], 4);
      const rest = await requests(fixed.slice(2, 4), 1, [2, 3], 4);
      const r = await revertOf(fulfilBatch([onOne.ids[0]!, onTwo.ids[0]!, ...rest.ids], b4.proof, b4.instances));
      expect(r.errorName).to.equal("CoordinatorBatchVersionMismatch");
      expect(r.args).to.deep.equal([onTwo.ids[0], modelId, 2, modelId, 1]);
    });

    it("padding presented as a request's input: CoordinatorBlockInputMismatch at the padding block", async () => {
      const { ids } = await requests(fixed.slice(0, 4));
      const r = await revertOf(fulfilBatch(ids, padded.proof, padded.instances));
      expect(r.errorName).to.equal("CoordinatorBlockInputMismatch");
      expect(r.args![0]).to.equal(ids[3]);
      expect(r.args![1]).to.equal(3n);
      expect(r.args![2]).to.equal(await suite.coordinator.read.computeInputCommitment([fixed[3]!]));
      expect(r.args![3]).to.equal(keccak256(`0x${"00".repeat(32 * INPUTS)}`));
    });

    it("a flipped proof byte and a changed output: VerifierProofRejected; a batch-1-sized proof of 4 requests: CoordinatorBatchTooLarge", async () => {
      const { ids } = await requests(fixed.slice(0, 4));
      const flipped = `${b4.proof.slice(0, 200)}${b4.proof[200] === "0" ? "1" : "0"}${b4.proof.slice(201)}` as Hex;
      expect((await revertOf(fulfilBatch(ids, flipped, b4.instances))).errorName).to.equal("VerifierProofRejected");
      const forged = [...b4.instances];
      forged[INPUTS * 4 + 2 * OUTPUTS] = forged[INPUTS * 4 + 1 * OUTPUTS]! + 1n; // block 2's first output
      expect((await revertOf(fulfilBatch(ids, b4.proof, forged))).errorName).to.equal("VerifierProofRejected");
      const single = b4.instances.slice(0, INPUTS).concat(b4.instances.slice(INPUTS * 4, INPUTS * 4 + OUTPUTS));
      expect((await revertOf(fulfilBatch(ids, b4.proof, single))).errorName).to.equal("CoordinatorBatchTooLarge");
    });
  });
});
