import { expect } from "chai";
import { getAddress, keccak256, encodeAbiParameters, parseEventLogs } from "viem";
import { digitBountyAbi, inferenceCoordinatorAbi } from "../../prover/src/chain/abis.js";
import { decodeInputs } from "../../prover/src/models/inference.js";
import { lockAndFulfil } from "../../prover/src/chain/fulfil.js";
import { deploySuite } from "../helpers/suite.js";
import { receiptOf } from "../helpers/receipt.js";
import { NO_LOCK, requestsInLogs, type Terms } from "../../prover/src/sdk/terms.js";
import { builtExample, exampleProof } from "../helpers/models.js";
import { revertOf } from "../helpers/revert.js";

/**
 * The example dApp, DigitBounty, on ModelRegistry + InferenceVerifier + InferenceCoordinator with the
 * EZKL-generated digits-mlp verifier and a real proof: a player draws, the prover fulfils, the callback
 * pays (or not). The coordinator's own real-proof and gas tests are in coordinator.real.test.ts; escrow
 * and callback edge cases are unit-tested in contracts/test/*.t.sol.
 */
const FEE = 10n ** 15n;
const PRIZE = 10n ** 17n;

async function fixture() {
  const { viem, networkHelpers, publicClient, wallets, admin: owner, coordinator, registerExample } = await deploySuite();
  const [prover, player] = [wallets[2]!, wallets[3]!];
  const model = await builtExample("digits-mlp");
  const { modelId } = await registerExample("digits-mlp");
  const bounty = await viem.deployContract("DigitBounty", [
    coordinator.address,
    owner.account.address,
    { modelId, modelVersion: 1, prize: PRIZE, callbackGasLimit: 100_000, requestTimeout: 3600n },
  ]);
  await publicClient.waitForTransactionReceipt({ hash: await bounty.write.fund({ value: 10n ** 18n }) });
  const proof = await exampleProof("digits-mlp");
  const pixels = decodeInputs(model.manifest, proof.instances);
  const logits = proof.outputs.fixed;
  const predicted = logits.indexOf(logits.reduce((a, b) => (b > a ? b : a)));
  /** Each play's request terms, from its `InferenceRequested`. */
  const terms = new Map<bigint, Terms>();
  return { networkHelpers, publicClient, prover: prover!, player: player!, coordinator, bounty, proof, pixels, predicted, terms };
}

describe("DigitBounty with a real EZKL proof of digits-mlp (Hardhat EVM)", function () {
  let f: Awaited<ReturnType<typeof fixture>>;

  before(async () => {
    f = await fixture();
  });

  async function play(digit: number) {
    const receipt = await f.publicClient.waitForTransactionReceipt({
      hash: await f.bounty.write.play([f.pixels, digit], { account: f.player.account, value: FEE }),
    });
    expect(receipt.status).to.equal("success");
    const [requested] = parseEventLogs({ abi: inferenceCoordinatorAbi, logs: receipt.logs, eventName: "InferenceRequested" });
    expect(requested!.args.requester).to.equal(getAddress(f.bounty.address));
    const [request] = requestsInLogs(receipt.logs);
    expect(request!.input, "the packed input, unpacked").to.deep.equal(f.pixels);
    expect(request!.terms.requester).to.equal(getAddress(f.bounty.address));
    f.terms.set(request!.requestId, request!.terms);
    return request!.requestId;
  }

  async function fulfil(requestId: bigint) {
    // The prover locks the request, then fulfils it (the market's paid path).
    const { lock, fulfil: receipt } = await lockAndFulfil(
      f.prover,
      f.publicClient,
      f.coordinator.address,
      requestId,
      f.proof.proof,
      f.proof.instances,
    );
    expect(lock, "the request was locked first").to.not.equal(undefined);
    expect(parseEventLogs({ abi: inferenceCoordinatorAbi, logs: receipt.logs, eventName: "CallbackFailed" })).to.have.length(0);
    const [resolved] = parseEventLogs({ abi: digitBountyAbi, logs: receipt.logs, eventName: "PlayResolved" });
    expect(resolved, "PlayResolved").to.not.equal(undefined);
    return { ...resolved!.args, receipt };
  }

  it("pays the prize to a player who claims the digit the model sees", async () => {
    const requestId = await play(f.predicted);
    const resolved = await fulfil(requestId);
    expect(resolved.won).to.equal(true);
    expect(resolved.predictedDigit).to.equal(BigInt(f.predicted));
    expect(await f.bounty.read.claimable([f.player.account.address])).to.equal(PRIZE);

    const stored = await receiptOf(f.publicClient, requestId, f.terms.get(requestId)!, resolved.receipt);
    expect(stored.callback).to.equal(1); // Succeeded
    expect(stored.outputsHash).to.equal(keccak256(encodeAbiParameters([{ type: "int256[]" }], [f.proof.outputs.fixed])));
    expect(await f.coordinator.read.checkReceipt([requestId, stored])).to.equal(true);

    const before = await f.publicClient.getBalance({ address: f.player.account.address });
    const claim = await f.publicClient.waitForTransactionReceipt({
      hash: await f.bounty.write.claim({ account: f.player.account }),
    });
    const after = await f.publicClient.getBalance({ address: f.player.account.address });
    expect(after - before + claim.gasUsed * claim.effectiveGasPrice).to.equal(PRIZE);
  });

  it("keeps the prize in the pot when the model sees another digit", async () => {
    const potBefore = await f.bounty.read.pot();
    const wrong = (f.predicted + 1) % 10;
    const resolved = await fulfil(await play(wrong));
    expect(resolved.won).to.equal(false);
    expect(resolved.claimedDigit).to.equal(wrong);
    expect(resolved.predictedDigit).to.equal(BigInt(f.predicted));
    expect(await f.bounty.read.pot()).to.equal(potBefore);
    expect(await f.bounty.read.reserved()).to.equal(0n);
  });

  it("refunds the player's fee when nobody proves the play before its deadline", async () => {
    const requestId = await play(f.predicted);
    await f.networkHelpers.time.increase(3601);
    const terms = f.terms.get(requestId)!;
    // Terms that claim a larger fee do not refund more: the coordinator holds their hash.
    const forged = await revertOf(f.bounty.write.expire([requestId, { ...terms, maxPrice: terms.maxPrice * 2n }, NO_LOCK]));
    expect(forged.errorName).to.equal("CoordinatorTermsMismatch");
    expect(forged.args).to.deep.equal([requestId, 1]);
    await f.publicClient.waitForTransactionReceipt({ hash: await f.bounty.write.expire([requestId, terms, NO_LOCK]) });
    expect(await f.bounty.read.claimable([f.player.account.address])).to.equal(FEE);
    expect((await f.coordinator.read.requestState([requestId]))[0]).to.equal(3); // Refunded
  });
});
