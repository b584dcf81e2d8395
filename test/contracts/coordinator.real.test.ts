import { offerFor } from "../../prover/src/sdk/inference.js";
import { expect } from "chai";
import { join } from "node:path";
import {
  encodeAbiParameters,
  encodeFunctionData,
  getAddress,
  keccak256,
  parseEventLogs,
  type Address,
  type Hex,
  type Log,
  type TransactionReceipt,
} from "viem";
import { inferenceCoordinatorAbi } from "../../prover/src/chain/abis.js";
import { readCompiledVerifier } from "../../prover/src/models/compile-verifier.js";
import { deployModelVerifier } from "../helpers/chain.js";
import { decodeInputs } from "../../prover/src/models/inference.js";
import { projectRoot } from "../../prover/src/util/paths.js";
import { deploySuite } from "../helpers/suite.js";
import { checkGasSnapshot, type GasFigures } from "../helpers/gas.js";
import { builtExample, exampleProof, type ExampleModel } from "../helpers/models.js";
import { revertOf } from "../helpers/revert.js";
import { receiptOf } from "../helpers/receipt.js";
import {
  NO_LOCK,
  fulfilledOutputs,
  locksInLogs,
  packInput,
  requestsInLogs,
  type LockState,
  type Terms,
} from "../../prover/src/sdk/terms.js";

/**
 * Request -> fulfil -> callback with real EZKL proofs of the example models on Hardhat's EVM:
 * ModelRegistry + InferenceVerifier + InferenceCoordinator, the suite verifier (EZKL's reusable
 * verifier) checking each model's registered VKA, and test consumers (well-behaved and adversarial)
 * built on the production InferenceConsumer base.
 */
const FEE = 10_000_000_000_000_000n; // 0.01 ETH
const SNAPSHOT = join(projectRoot, "test/gas/coordinator.json");

async function fixture() {
  const {
    viem,
    networkHelpers,
    publicClient,
    wallets,
    admin,
    guardian,
    registry,
    route,
    coordinator,
    registerExample,
    suiteVerifier,
  } = await deploySuite();
  const [prover, user] = [wallets[2]!, wallets[3]!];
  const ids = {} as Record<ExampleModel, Hex>;
  for (const name of ["digits-mlp", "diabetes-mlp", "digits-cnn"] as const) ids[name] = (await registerExample(name)).modelId;
  const mined = async (hash: Promise<Hex> | Hex) => {
    const r = await publicClient.waitForTransactionReceipt({ hash: await hash });
    expect(r.status).to.equal("success");
    return r;
  };
  const deadline = async (sec = 3600) => BigInt(await networkHelpers.time.latest()) + BigInt(sec);
  /** Every request's terms and lock as the calls on it take them back, kept from its events. */
  const claims = new Map<bigint, { terms: Terms; held: LockState }>();
  /** The request a receipt's `InferenceRequested` made; its terms are remembered for the calls on it. */
  const requestIdOf = (logs: Log[]) => {
    const [r] = requestsInLogs(logs);
    if (!claims.has(r!.requestId)) claims.set(r!.requestId, { terms: r!.terms, held: NO_LOCK });
    return r!.requestId;
  };
  const claim = (requestId: bigint) => {
    const c = claims.get(requestId);
    if (!c) throw new Error(`request ${requestId} was not made in this fixture`);
    return c;
  };
  return {
    viem,
    networkHelpers,
    publicClient,
    admin: admin!,
    guardian: guardian!,
    prover: prover!,
    user: user!,
    registry,
    route,
    coordinator,
    ids,
    registerExample,
    suiteVerifier,
    mined,
    deadline,
    requestIdOf,
    claims,
    claim,
  };
}

/**
 * Bound on fulfil / bare single-model verifyProof, set from the measured figures (README, Gas): 1.337x for digits-mlp
 * before the market, 1.355x with it, 1.347x with the request as one hash of its terms (the terms and lock passed back
 * cost calldata; the lock word and the request word are one). The route's own `verify` of the same proof is already
 * 1.33x (test/gas/route.json): the suite verifier, not the coordinator, holds most of the gap to issue 11's 1.30x.
 */
const RATIO_BOUND = 1.36;
/** `fulfill` before the market (main at e2d6548, test/gas/coordinator.json), the anchor of issue 12's gas target. */
const PRE_MARKET_FULFIL: Record<string, number> = { "digits-mlp": 634_048, "diabetes-mlp": 698_026 };

describe("InferenceCoordinator with real EZKL proofs (Hardhat EVM)", function () {
  let f: Awaited<ReturnType<typeof fixture>>;
  const gas: GasFigures = {};
  before(async () => {
    f = await fixture();
  });

  const realProof = async (name: "digits-mlp" | "diabetes-mlp") => {
    const proof = await exampleProof(name);
    return { proof, input: decodeInputs((await builtExample(name)).manifest, proof.instances) };
  };
  /** `who` locks an open request (no collateral in these tests), so its fulfilment needs no commitment. */
  const lockAs = async (who: "prover" | "user", requestId: bigint) => {
    const [status] = await f.coordinator.read.requestState([requestId]);
    if (status !== 1) return undefined;
    const c = f.claim(requestId);
    const r = await f.mined(f.coordinator.write.lock([[requestId], [c.terms]], { account: f[who].account }));
    c.held = locksInLogs(r.logs).get(requestId)!;
    return r;
  };
  /** `fulfill` of a request with its terms and lock passed back, as the chain's events give them. */
  const fulfilCall = (who: "prover" | "user", requestId: bigint, proof: Hex, instances: readonly bigint[], gasLimit?: bigint) => {
    const c = f.claim(requestId);
    return f.coordinator.write.fulfill([requestId, c.terms, c.held, proof, [...instances]], {
      account: f[who].account,
      ...(gasLimit ? { gas: gasLimit } : {}),
    });
  };
  const fulfilAs = async (
    who: "prover" | "user",
    requestId: bigint,
    proof: Hex,
    instances: readonly bigint[],
    gasLimit?: bigint,
  ) => {
    await lockAs(who, requestId);
    return fulfilCall(who, requestId, proof, instances, gasLimit);
  };
  /** Whether the coordinator holds `receiptOf` this fulfilment (optionally with the callback status given) as the receipt. */
  const holdsReceipt = async (requestId: bigint, tx: TransactionReceipt, callback?: number) =>
    f.coordinator.read.checkReceipt([
      requestId,
      await receiptOf(f.publicClient, requestId, f.claim(requestId).terms, tx, callback),
    ]);
  const refundOf = (requestId: bigint, who: "prover" | "user") => {
    const c = f.claim(requestId);
    return f.coordinator.write.refund([requestId, c.terms, c.held], { account: f[who].account });
  };

  /** A test consumer deployed on the coordinator; returns it and a request made through it. */
  async function consumerRequest(
    contract: string,
    args: unknown[],
    name: "digits-mlp" | "diabetes-mlp",
    callbackGas = 600_000,
    input?: bigint[],
  ) {
    const consumer = await f.viem.deployContract(contract as "RecordingConsumer", [f.coordinator.address, ...args] as [Address]);
    const { input: realInput } = await realProof(name);
    const r = await f.mined(
      consumer.write.request([f.ids[name], 1, input ?? realInput, callbackGas, await f.deadline()], {
        value: FEE,
        account: f.user.account,
      }),
    );
    return { consumer, requestId: f.requestIdOf(r.logs) };
  }

  for (const name of ["digits-mlp", "diabetes-mlp"] as const) {
    it(`${name}: the consumer's callback receives exactly the decoded outputs; the fee is credited to the prover and withdrawn`, async () => {
      const { proof } = await realProof(name);
      const { consumer, requestId } = await consumerRequest("RecordingConsumer", [], name);
      const fulfil = await f.mined(fulfilAs("prover", requestId, proof.proof, proof.instances));
      expect(await consumer.read.lastOutputs()).to.deep.equal(proof.outputs.fixed);
      expect(await consumer.read.lastRequestId()).to.equal(requestId);
      expect(await consumer.read.calls()).to.equal(1n);
      const [event] = parseEventLogs({ abi: inferenceCoordinatorAbi, logs: fulfil.logs, eventName: "InferenceFulfilled" });
      expect(fulfilledOutputs(event!.args)).to.deep.equal(proof.outputs.fixed);
      expect(event!.args.fulfiller).to.equal(getAddress(f.prover.account.address));

      // The receipt rebuilt off-chain from the request's terms and the fulfilment's event is the stored one.
      const receipt = await receiptOf(f.publicClient, requestId, f.claim(requestId).terms, fulfil);
      expect(receipt.modelId).to.equal(f.ids[name]);
      expect(receipt.proofHash).to.equal(keccak256(proof.proof));
      expect(receipt.outputsHash).to.equal(keccak256(encodeAbiParameters([{ type: "int256[]" }], [proof.outputs.fixed])));
      expect(receipt.fulfiller).to.equal(getAddress(f.prover.account.address));
      expect(receipt.callback).to.equal(1); // Succeeded
      expect(await f.coordinator.read.checkReceipt([requestId, receipt])).to.equal(true);
      const [status, stateHash] = await f.coordinator.read.requestState([requestId]);
      expect(status).to.equal(2); // Fulfilled
      expect(stateHash).to.equal(await f.coordinator.read.receiptHash([receipt]));
      // Any other receipt is not: other outputs, another fulfiller, a failed callback.
      const otherOutputs = keccak256(encodeAbiParameters([{ type: "int256[]" }], [proof.outputs.fixed.map((o) => o + 1n)]));
      for (const other of [
        { ...receipt, outputsHash: otherOutputs },
        { ...receipt, fulfiller: getAddress(f.user.account.address) },
        { ...receipt, callback: 2 },
      ])
        expect(await f.coordinator.read.checkReceipt([requestId, other])).to.equal(false);

      const credit = await f.coordinator.read.credits([f.prover.account.address]);
      expect(credit >= FEE).to.equal(true);
      const before = await f.publicClient.getBalance({ address: f.prover.account.address });
      const w = await f.mined(f.coordinator.write.withdraw({ account: f.prover.account }));
      const after = await f.publicClient.getBalance({ address: f.prover.account.address });
      expect(after - before + w.gasUsed * w.effectiveGasPrice).to.equal(credit);
      expect(await f.coordinator.read.credits([f.prover.account.address])).to.equal(0n);
    });

    it(`${name}: gas of request and fulfil through the suite verifier against the bare single-model verifier`, async () => {
      const { proof, input } = await realProof(name);
      const model = await builtExample(name);
      const single = await deployModelVerifier(f.admin, f.publicClient, model);
      const singleAbi = (await readCompiledVerifier(model)).abi;
      const bare = await f.mined(
        f.prover.sendTransaction({
          to: single,
          data: encodeFunctionData({ abi: singleAbi, functionName: "verifyProof", args: [proof.proof, proof.instances] }),
        }),
      );
      // An EOA requester gets no callback: fulfil's cost is all coordinator + route + verifier.
      const req = await f.mined(
        f.coordinator.write.requestInference([f.ids[name], 1, input, offerFor(await f.deadline(), { fee: FEE })], {
          value: FEE,
          account: f.user.account,
        }),
      );
      const requestId = f.requestIdOf(req.logs);
      const lock = (await lockAs("prover", requestId))!;
      const fulfil = await f.mined(fulfilAs("prover", requestId, proof.proof, proof.instances));
      const ratio = Number(fulfil.gasUsed) / Number(bare.gasUsed);
      // The open path on a second request, sent packed (as the SDK sends an account's request): commit (one block
      // ahead), then the fill.
      const packed = packInput(input);
      const reqPacked = await f.mined(
        f.coordinator.write.requestInferencePacked(
          [f.ids[name], 1, packed.width, packed.packed, offerFor(await f.deadline(), { fee: FEE })],
          { value: FEE, account: f.user.account },
        ),
      );
      const open = f.requestIdOf(reqPacked.logs);
      const [loggedPacked] = requestsInLogs(reqPacked.logs);
      expect(loggedPacked!.input, "the packed request's input").to.deep.equal(input);
      expect(loggedPacked!.terms.inputCommitment, "the same commitment as unpacked").to.equal(
        await f.coordinator.read.computeInputCommitment([input]),
      );
      const commitment = await f.coordinator.read.fillCommitment([f.prover.account.address, [open], keccak256(proof.proof)]);
      const commit = await f.mined(f.coordinator.write.commit([commitment], { account: f.prover.account }));
      const openFill = await f.mined(fulfilCall("prover", open, proof.proof, proof.instances));
      gas[name] = {
        bareVerifyProof: Number(bare.gasUsed),
        requestInference: Number(req.gasUsed),
        requestInferencePacked: Number(reqPacked.gasUsed),
        lock: Number(lock.gasUsed),
        fulfil: Number(fulfil.gasUsed),
        lockPlusFulfil: Number(lock.gasUsed + fulfil.gasUsed),
        commit: Number(commit.gasUsed),
        openFill: Number(openFill.gasUsed),
        commitPlusOpenFill: Number(commit.gasUsed + openFill.gasUsed),
        fulfilOverBare: Math.round(ratio * 1000) / 1000,
      };
      // The target (11) is 1.30x the bare single-model verifyProof transaction of the same proof (no
      // callback here); the market's (12) is lock + locked fulfil at most the plain fulfil + 60k. Both are
      // reported in README (Gas) with the measured figures; the bound here is the measured ratio's, and the
      // snapshot (test/gas/coordinator.json) catches any change over 1%.
      expect(ratio, `fulfil ${fulfil.gasUsed} vs bare ${bare.gasUsed}`).to.be.at.most(RATIO_BOUND);
      // The market's target: lock + locked fulfil, and commit + open fill, at most the plain fulfil + 60k.
      expect(Number(lock.gasUsed + fulfil.gasUsed)).to.be.at.most(PRE_MARKET_FULFIL[name]! + 60_000);
      expect(Number(commit.gasUsed + openFill.gasUsed)).to.be.at.most(PRE_MARKET_FULFIL[name]! + 60_000);
    });
  }

  it("copied calldata within a lock pays the copier nothing and the locker the price + collateral; a copied open fill reverts with CoordinatorFillNotCommitted", async () => {
    const { proof, input } = await realProof("diabetes-mlp");
    const collateral = 10n ** 15n;
    const locked = f.requestIdOf(
      (
        await f.mined(
          f.coordinator.write.requestInference(
            [f.ids["diabetes-mlp"], 1, input, offerFor(await f.deadline(), { fee: FEE, lockCollateral: collateral })],
            { value: FEE, account: f.user.account },
          ),
        )
      ).logs,
    );
    await f.mined(f.coordinator.write.deposit({ value: collateral, account: f.prover.account }));
    const proverBefore = await f.coordinator.read.credits([f.prover.account.address]);
    const copierBefore = await f.coordinator.read.credits([f.user.account.address]);
    await lockAs("prover", locked);
    // The copier (`user`) sends the prover's exact calldata first: it succeeds, and pays the locker.
    const copied = await f.mined(fulfilCall("user", locked, proof.proof, proof.instances));
    expect(await f.coordinator.read.credits([f.user.account.address])).to.equal(copierBefore);
    expect(await f.coordinator.read.credits([f.prover.account.address])).to.equal(proverBefore + FEE);
    const lockedReceipt = await receiptOf(f.publicClient, locked, f.claim(locked).terms, copied);
    expect(lockedReceipt.fulfiller).to.equal(getAddress(f.prover.account.address));
    expect(await f.coordinator.read.checkReceipt([locked, lockedReceipt])).to.equal(true);

    // An open fill: the prover commits, a block later fills; the copier's copy has no commitment of its own.
    const open = f.requestIdOf(
      (
        await f.mined(
          f.coordinator.write.requestInference([f.ids["diabetes-mlp"], 1, input, offerFor(await f.deadline(), { fee: FEE })], {
            value: FEE,
            account: f.user.account,
          }),
        )
      ).logs,
    );
    const mine = await f.coordinator.read.fillCommitment([f.prover.account.address, [open], keccak256(proof.proof)]);
    await f.mined(f.coordinator.write.commit([mine], { account: f.prover.account }));
    const copy = await revertOf(fulfilCall("user", open, proof.proof, proof.instances));
    expect(copy.errorName).to.equal("CoordinatorFillNotCommitted");
    const theirs = await f.coordinator.read.fillCommitment([f.user.account.address, [open], keccak256(proof.proof)]);
    expect(copy.args).to.deep.equal([open, getAddress(f.user.account.address), theirs]);
    const filled = await f.mined(fulfilCall("prover", open, proof.proof, proof.instances));
    const openReceipt = await receiptOf(f.publicClient, open, f.claim(open).terms, filled);
    expect(openReceipt.fulfiller).to.equal(getAddress(f.prover.account.address));
    expect(await f.coordinator.read.checkReceipt([open, openReceipt])).to.equal(true);
  });

  it("logs the input packed at its narrowest width: unpacked, it is the request's input and hashes to its commitment", async () => {
    for (const name of ["digits-mlp", "diabetes-mlp"] as const) {
      const { input } = await realProof(name);
      const r = await f.mined(
        f.coordinator.write.requestInference([f.ids[name], 1, input, offerFor(await f.deadline(), { fee: FEE })], {
          value: FEE,
          account: f.user.account,
        }),
      );
      const [event] = parseEventLogs({ abi: inferenceCoordinatorAbi, logs: r.logs, eventName: "InferenceRequested" });
      const width = event!.args.inputWidth;
      const [request] = requestsInLogs(r.logs);
      expect(request!.input, name).to.deep.equal(input);
      expect(request!.terms.inputCommitment).to.equal(await f.coordinator.read.computeInputCommitment([input]));
      // Narrowest: every element fits `width` bytes of two's complement, and some element does not fit one byte less.
      const fits = (w: number) => input.every((x) => x >= -(1n << BigInt(8 * w - 1)) && x < 1n << BigInt(8 * w - 1));
      expect(fits(width), `${name}: width ${width}`).to.equal(true);
      if (width > 1) expect(fits(width - 1), `${name}: width ${width - 1}`).to.equal(false);
      expect((event!.args.input.length - 2) / 2).to.equal(width * input.length);
    }
  });

  it("forged terms or a forged lock passed back with a real proof: CoordinatorTermsMismatch(requestId, status)", async () => {
    const { proof, input } = await realProof("digits-mlp");
    // A request on another input: a prover passes back terms that claim the proof's input (or a higher price, a later
    // deadline, itself as the requester), to be paid for a proof of something else.
    const other = [...input];
    other[10] = other[10]! + 1n;
    const opened = f.requestIdOf(
      (
        await f.mined(
          f.coordinator.write.requestInference([f.ids["digits-mlp"], 1, other, offerFor(await f.deadline(), { fee: FEE })], {
            value: FEE,
            account: f.user.account,
          }),
        )
      ).logs,
    );
    const real = f.claim(opened).terms;
    const forgeries: Terms[] = [
      { ...real, inputCommitment: await f.coordinator.read.computeInputCommitment([input]) },
      { ...real, maxPrice: real.maxPrice * 2n },
      { ...real, deadline: real.deadline + 3600n },
      { ...real, requester: getAddress(f.prover.account.address) },
    ];
    for (const [i, forged] of forgeries.entries()) {
      const r = await revertOf(
        f.coordinator.write.fulfill([opened, forged, NO_LOCK, proof.proof, [...proof.instances]], { account: f.prover.account }),
      );
      expect(r.errorName, `forgery ${i}: fulfill`).to.equal("CoordinatorTermsMismatch");
      expect(r.args).to.deep.equal([opened, 1]); // Open
      const l = await revertOf(f.coordinator.write.lock([[opened], [forged]], { account: f.prover.account }));
      expect(l.errorName, `forgery ${i}: lock`).to.equal("CoordinatorTermsMismatch");
      const b = await revertOf(
        f.coordinator.write.fulfillBatch([[opened], [forged], [NO_LOCK], proof.proof, [...proof.instances]], {
          account: f.prover.account,
        }),
      );
      expect(b.errorName, `forgery ${i}: fulfillBatch`).to.equal("CoordinatorTermsMismatch");
      expect(b.args).to.deep.equal([opened, 1]);
    }
    // The requester cannot cancel for more than it escrowed.
    const c = await revertOf(
      f.coordinator.write.cancel([opened, { ...real, maxPrice: real.maxPrice * 2n }], { account: f.user.account }),
    );
    expect(c.errorName).to.equal("CoordinatorTermsMismatch");
    expect(c.args).to.deep.equal([opened, 1]);
    // With the true terms, the real proof of another input is what fails: the input commitment.
    const honest = await revertOf(fulfilAs("prover", opened, proof.proof, proof.instances));
    expect(honest.errorName).to.equal("VerifierInputCommitmentMismatch");

    // A locked request on the proof's own input: its true terms with a forged lock (a higher price, another locker,
    // an earlier block, no lock at all), or forged terms with its true lock.
    const locked = f.requestIdOf(
      (
        await f.mined(
          f.coordinator.write.requestInference([f.ids["digits-mlp"], 1, input, offerFor(await f.deadline(), { fee: FEE })], {
            value: FEE,
            account: f.user.account,
          }),
        )
      ).logs,
    );
    await lockAs("prover", locked);
    const { terms, held } = f.claim(locked);
    for (const [i, [t, h]] of (
      [
        [terms, { ...held, price: held.price + 1n }],
        [terms, { ...held, locker: getAddress(f.user.account.address) }],
        [terms, { ...held, lockedAt: held.lockedAt - 1n }],
        [terms, NO_LOCK],
        [{ ...terms, maxPrice: terms.maxPrice + 1n }, held],
      ] as const
    ).entries()) {
      const r = await revertOf(
        f.coordinator.write.fulfill([locked, t, h, proof.proof, [...proof.instances]], { account: f.prover.account }),
      );
      expect(r.errorName, `locked forgery ${i}`).to.equal("CoordinatorTermsMismatch");
      expect(r.args).to.deep.equal([locked, 4]); // Locked
    }
    const rf = await revertOf(
      f.coordinator.write.refund([locked, terms, { ...held, price: held.price * 2n }], { account: f.user.account }),
    );
    expect(rf.errorName).to.equal("CoordinatorTermsMismatch");
    // The true terms and lock fulfil it.
    const done = await f.mined(fulfilCall("prover", locked, proof.proof, proof.instances));
    expect(await holdsReceipt(locked, done)).to.equal(true);
  });

  it("rejects a second fulfilment: CoordinatorRequestAlreadyFulfilled(requestId)", async () => {
    const { proof } = await realProof("diabetes-mlp");
    const { requestId } = await consumerRequest("RecordingConsumer", [], "diabetes-mlp");
    await f.mined(fulfilAs("prover", requestId, proof.proof, proof.instances));
    const r = await revertOf(fulfilAs("user", requestId, proof.proof, proof.instances));
    expect(r.errorName).to.equal("CoordinatorRequestAlreadyFulfilled");
    expect(r.args).to.deep.equal([requestId]);
  });

  it("rejects a fulfilment after the deadline (CoordinatorRequestExpired), then refunds the requester", async () => {
    const { proof, input } = await realProof("diabetes-mlp");
    const dl = await f.deadline(120);
    const req = await f.mined(
      f.coordinator.write.requestInference([f.ids["diabetes-mlp"], 1, input, offerFor(dl, { fee: FEE })], {
        value: FEE,
        account: f.user.account,
      }),
    );
    const requestId = f.requestIdOf(req.logs);
    const early = await revertOf(refundOf(requestId, "user"));
    expect(early.errorName).to.equal("CoordinatorRequestNotExpired");
    expect(early.args).to.deep.equal([requestId, dl]);
    await f.networkHelpers.time.increaseTo(dl + 1n);
    const late = await revertOf(fulfilCall("prover", requestId, proof.proof, proof.instances));
    expect(late.errorName).to.equal("CoordinatorRequestExpired");
    expect(late.args).to.deep.equal([requestId, dl]);
    const creditBefore = await f.coordinator.read.credits([f.user.account.address]);
    await f.mined(refundOf(requestId, "prover")); // anyone may trigger it
    expect((await f.coordinator.read.credits([f.user.account.address])) - creditBefore).to.equal(FEE);
    expect(await f.coordinator.read.requestState([requestId])).to.deep.equal([3, `0x${"00".repeat(32)}`]); // Refunded
    const again = await revertOf(refundOf(requestId, "user"));
    expect(again.errorName).to.equal("CoordinatorRequestAlreadyRefunded");
  });

  it("rejects a proof whose input is not the request's: VerifierInputCommitmentMismatch", async () => {
    const { proof, input } = await realProof("digits-mlp");
    const other = [...input];
    other[10] = other[10]! + 1n;
    const req = await f.mined(
      f.coordinator.write.requestInference([f.ids["digits-mlp"], 1, other, offerFor(await f.deadline(), { fee: FEE })], {
        value: FEE,
        account: f.user.account,
      }),
    );
    const r = await revertOf(fulfilAs("prover", f.requestIdOf(req.logs), proof.proof, proof.instances));
    expect(r.errorName).to.equal("VerifierInputCommitmentMismatch");
  });

  it("rejects another model's proof with the same input layout: VerifierProofRejected", async () => {
    const { proof, input } = await realProof("digits-mlp");
    const req = await f.mined(
      f.coordinator.write.requestInference([f.ids["digits-cnn"], 1, input, offerFor(await f.deadline(), { fee: FEE })], {
        value: FEE,
        account: f.user.account,
      }),
    );
    const r = await revertOf(fulfilAs("prover", f.requestIdOf(req.logs), proof.proof, proof.instances));
    expect(r.errorName).to.equal("VerifierProofRejected");
    expect(r.args[0]).to.equal(f.ids["digits-cnn"]);
  });

  it("fulfils a request whose version was deprecated after it (deprecation stops new requests only)", async () => {
    const { proof, input } = await realProof("diabetes-mlp");
    const { modelId } = await f.registerExample("diabetes-mlp", "diabetes-deprecated");
    const req = await f.mined(
      f.coordinator.write.requestInference([modelId, 1, input, offerFor(await f.deadline(), { fee: FEE })], {
        value: FEE,
        account: f.user.account,
      }),
    );
    await f.mined(f.registry.write.deprecateVersion([modelId, 1]));
    const again = await revertOf(
      f.coordinator.write.requestInference([modelId, 1, input, offerFor(await f.deadline(), { fee: FEE })], {
        value: FEE,
        account: f.user.account,
      }),
    );
    expect(again.errorName).to.equal("CoordinatorVersionDeprecated");
    const requestId = f.requestIdOf(req.logs);
    const r = await f.mined(fulfilAs("prover", requestId, proof.proof, proof.instances));
    const receipt = await receiptOf(f.publicClient, requestId, f.claim(requestId).terms, r);
    expect(receipt.version).to.equal(1);
    expect(await f.coordinator.read.checkReceipt([requestId, receipt])).to.equal(true);
  });

  it("a revoked version's pending request cannot be fulfilled (VerifierVersionRevoked) and is refundable at once", async () => {
    const { proof, input } = await realProof("diabetes-mlp");
    const { modelId } = await f.registerExample("diabetes-mlp", "diabetes-revoked");
    const req = await f.mined(
      f.coordinator.write.requestInference([modelId, 1, input, offerFor(await f.deadline(), { fee: FEE })], {
        value: FEE,
        account: f.user.account,
      }),
    );
    const requestId = f.requestIdOf(req.logs);
    await f.mined(f.registry.write.revokeVersion([modelId, 1]));
    const r = await revertOf(fulfilAs("prover", requestId, proof.proof, proof.instances));
    expect(r.errorName).to.equal("VerifierVersionRevoked");
    expect(r.args).to.deep.equal([modelId, 1]);
    const before = await f.coordinator.read.credits([f.user.account.address]);
    await f.mined(refundOf(requestId, "prover")); // before its deadline
    expect((await f.coordinator.read.credits([f.user.account.address])) - before).to.equal(FEE);
  });

  it("a newer version cannot take over a pinned request: its proof fails against the pinned version's VKA", async () => {
    const mlp = await realProof("digits-mlp");
    const cnnProof = await exampleProof("digits-cnn");
    const { modelId } = await f.registerExample("digits-mlp", "digits-upgraded");
    const req = await f.mined(
      f.coordinator.write.requestInference([modelId, 1, mlp.input, offerFor(await f.deadline(), { fee: FEE })], {
        value: FEE,
        account: f.user.account,
      }),
    );
    // The owner adds digits-cnn's circuit as version 2 and deprecates version 1.
    const cnn = await builtExample("digits-cnn");
    const { readModelVka, versionParams } = await import("../../prover/src/chain/register.js");
    await f.mined(
      f.registry.write.addVersion([modelId, versionParams(cnn.manifest, ""), (await readModelVka(cnn)).words, [], false]),
    );
    await f.mined(f.registry.write.deprecateVersion([modelId, 1]));
    // A proof of the same input made with version 2's circuit does not fulfil the version-1 request.
    const r = await revertOf(fulfilAs("prover", f.requestIdOf(req.logs), cnnProof.proof, cnnProof.instances));
    expect(["VerifierProofRejected", "VerifierInputCommitmentMismatch"]).to.include(r.errorName);
    if (r.errorName === "VerifierProofRejected") expect(r.args).to.deep.equal([modelId, 1, getAddress(f.suiteVerifier.address)]);
    // Version 1's own proof still does.
    await f.mined(fulfilAs("prover", f.requestIdOf(req.logs), mlp.proof.proof, mlp.proof.instances));
  });

  it("shows a dev-SRS version as such, and a consumer that requires the ceremony SRS refuses it: ConsumerSrsNotCeremony", async () => {
    const { input } = await realProof("digits-mlp");
    expect(await f.registry.read.usesCeremonySrs([f.ids["digits-mlp"], 1])).to.equal(false);
    const consumer = await f.viem.deployContract("CeremonyConsumer", [f.coordinator.address]);
    const r = await revertOf(
      consumer.write.request([f.ids["digits-mlp"], 1, input, 100_000, await f.deadline()], {
        value: FEE,
        account: f.user.account,
      }),
    );
    expect(r.errorName).to.equal("ConsumerSrsNotCeremony");
    expect(r.args).to.deep.equal([f.ids["digits-mlp"], 1]);
    const pinned = await f.viem.deployContract("RecordingConsumer", [f.coordinator.address]);
    const unpinned = await revertOf(
      pinned.write.request([f.ids["digits-mlp"], 0, input, 100_000, await f.deadline()], { value: FEE, account: f.user.account }),
    );
    expect(unpinned.errorName).to.equal("ConsumerVersionNotPinned");
  });

  for (const [contract, args, pattern] of [
    ["RevertingConsumer", [], /.+/],
    ["GasBurningConsumer", [], /^0x$/],
    ["HugeRevertConsumer", [100_000n], /.+/],
  ] as const) {
    it(`contains a ${contract}: the fulfilment, receipt and fee stand; CallbackFailed is announced`, async () => {
      const { proof } = await realProof("diabetes-mlp");
      const { consumer, requestId } = await consumerRequest(contract, [...args], "diabetes-mlp", 200_000);
      const creditBefore = await f.coordinator.read.credits([f.prover.account.address]);
      const r = await f.mined(fulfilAs("prover", requestId, proof.proof, proof.instances));
      const [failed] = parseEventLogs({ abi: inferenceCoordinatorAbi, logs: r.logs, eventName: "CallbackFailed" });
      expect(failed, "CallbackFailed emitted").to.not.equal(undefined);
      expect(failed!.args.consumer).to.equal(getAddress(consumer.address));
      expect(failed!.args.reason).to.match(pattern);
      expect(failed!.args.reason.length).to.be.at.most(2 + 2 * Number(await f.coordinator.read.MAX_CALLBACK_REASON_LENGTH()));
      expect(await holdsReceipt(requestId, r, 2), "the receipt records the failed callback").to.equal(true);
      expect(await holdsReceipt(requestId, r, 1)).to.equal(false);
      expect((await f.coordinator.read.requestState([requestId]))[0]).to.equal(2); // Fulfilled
      expect((await f.coordinator.read.credits([f.prover.account.address])) - creditBefore).to.equal(FEE);
    });
  }

  it("contains a reentrant consumer: re-entering fulfill from the callback fails, the outer fulfilment stands", async () => {
    const { proof } = await realProof("diabetes-mlp");
    const { consumer, requestId } = await consumerRequest("ReentrantConsumer", [], "diabetes-mlp", 500_000);
    const reentrant = await f.viem.getContractAt("ReentrantConsumer", consumer.address);
    await f.mined(reentrant.write.setMode([0, []])); // Mode.Fulfill
    const r = await f.mined(fulfilAs("prover", requestId, proof.proof, proof.instances));
    const [failed] = parseEventLogs({ abi: inferenceCoordinatorAbi, logs: r.logs, eventName: "CallbackFailed" });
    expect(failed, "CallbackFailed emitted").to.not.equal(undefined);
    const fulfilled = parseEventLogs({ abi: inferenceCoordinatorAbi, logs: r.logs, eventName: "InferenceFulfilled" });
    expect(fulfilled).to.have.length(1);
    expect((await f.coordinator.read.requestState([requestId]))[0]).to.equal(2);
    expect(await holdsReceipt(requestId, r, 2)).to.equal(true);
  });

  it("a callback at its gas limit succeeds; a fulfil transaction too short of gas for the callback reverts with CoordinatorInsufficientGasForCallback", async () => {
    const { proof } = await realProof("diabetes-mlp");
    const limit = 120_000;
    // Enough work to need most, but not all, of the limit.
    const { consumer, requestId } = await consumerRequest("ExactGasConsumer", [200n], "diabetes-mlp", limit);
    await lockAs("prover", requestId);
    const estimate = await f.publicClient.estimateContractGas({
      address: f.coordinator.address,
      abi: inferenceCoordinatorAbi,
      functionName: "fulfill",
      args: [requestId, f.claim(requestId).terms, f.claim(requestId).held, proof.proof, [...proof.instances]],
      account: f.prover.account,
    });
    const short = await revertOf(fulfilAs("prover", requestId, proof.proof, proof.instances, estimate - BigInt(limit) / 2n));
    expect(short.errorName).to.equal("CoordinatorInsufficientGasForCallback");
    expect(short.args[0]).to.equal(requestId);
    const r = await f.mined(fulfilAs("prover", requestId, proof.proof, proof.instances, estimate));
    expect(parseEventLogs({ abi: inferenceCoordinatorAbi, logs: r.logs, eventName: "CallbackFailed" })).to.have.length(0);
    expect(await holdsReceipt(requestId, r, 1)).to.equal(true);
    void consumer;
  });

  it("lets the guardian pause requests and fulfilments, never refunds or withdrawals", async () => {
    const { proof, input } = await realProof("diabetes-mlp");
    const dl = await f.deadline(300);
    const req = await f.mined(
      f.coordinator.write.requestInference([f.ids["diabetes-mlp"], 1, input, offerFor(dl, { fee: FEE })], {
        value: FEE,
        account: f.user.account,
      }),
    );
    const requestId = f.requestIdOf(req.logs);
    const notGuardian = await revertOf(f.coordinator.write.setPaused([true, true], { account: f.user.account }));
    expect(notGuardian.errorName).to.equal("CoordinatorNotGuardian");
    await f.mined(f.coordinator.write.setPaused([true, true], { account: f.guardian.account }));
    const r1 = await revertOf(
      f.coordinator.write.requestInference([f.ids["diabetes-mlp"], 1, input, offerFor(dl, { fee: FEE })], {
        value: FEE,
        account: f.user.account,
      }),
    );
    expect(r1.errorName).to.equal("CoordinatorRequestsPaused");
    const r2 = await revertOf(fulfilAs("prover", requestId, proof.proof, proof.instances));
    expect(r2.errorName).to.equal("CoordinatorFulfilmentsPaused");
    await f.networkHelpers.time.increaseTo(dl + 1n);
    await f.mined(refundOf(requestId, "user"));
    await f.mined(f.coordinator.write.withdraw({ account: f.user.account }));
    await f.mined(f.coordinator.write.setPaused([false, false], { account: f.guardian.account }));
  });

  after(() => {
    if (Object.keys(gas).length === 2)
      checkGasSnapshot(SNAPSHOT, gas, [
        "bareVerifyProof",
        "requestInference",
        "requestInferencePacked",
        "lock",
        "fulfil",
        "commit",
        "openFill",
      ]);
  });
});
