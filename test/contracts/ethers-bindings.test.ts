import { offerFor } from "../../prover/src/sdk/inference.js";
import { fulfilledOutputs } from "../../prover/src/sdk/terms.js";
import { expect } from "chai";
import { AbiCoder, keccak256 } from "ethers";
import { InferenceCoordinator__factory, ModelRegistry__factory } from "../../types/ethers-contracts/index.js";
import type { IInferenceCoordinator } from "../../types/ethers-contracts/coordinator/InferenceCoordinator.js";
import { decodeInputs } from "../../prover/src/models/inference.js";
import { deploySuite } from "../helpers/suite.js";
import { builtExample, exampleProof } from "../helpers/models.js";

/**
 * For dApp developers on ethers v6: the typechain bindings generated on every compile
 * (types/ethers-contracts) drive a whole request -> fulfil round trip with a real EZKL proof, with
 * typed arguments, results and events.
 */
describe("typechain (ethers v6) bindings, with a real EZKL proof", function () {
  it("request, fulfil and read the receipt through the typed contracts", async () => {
    const suite = await deploySuite();
    const { modelId } = await suite.registerExample("digits-mlp");
    const { ethers } = suite.connection;
    const [, , requester, prover] = await ethers.getSigners();
    const model = await builtExample("digits-mlp");
    const proof = await exampleProof("digits-mlp");

    const registry = ModelRegistry__factory.connect(suite.registry.address, requester);
    expect(await registry.latestVersion(modelId)).to.equal(1n);
    const coordinator = InferenceCoordinator__factory.connect(suite.coordinator.address, requester!);
    const input = decodeInputs(model.manifest, proof.instances);
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600);
    const fee = 10n ** 15n;
    const requested = await (
      await coordinator.requestInference(modelId, 1, input, offerFor(deadline, { fee }), { value: fee })
    ).wait();
    const event = requested!.logs.map((l) => coordinator.interface.parseLog(l)).find((e) => e?.name === "InferenceRequested");
    expect(event, "InferenceRequested").to.not.equal(undefined);
    const requestId = event!.args.requestId as bigint;
    // The terms as the event gave them, which every call on the request takes back.
    const terms = event!.args.terms.toObject() as IInferenceCoordinator.TermsStruct;

    const locked = await (await coordinator.connect(prover!).lock([requestId], [terms])).wait();
    const lockEvent = locked!.logs.map((l) => coordinator.interface.parseLog(l)).find((e) => e?.name === "RequestLocked");
    const held = { locker: lockEvent!.args.locker, lockedAt: lockEvent!.args.lockedAt, price: lockEvent!.args.price };
    const fulfilled = await (
      await coordinator.connect(prover!).fulfill(requestId, terms, held, proof.proof, proof.instances)
    ).wait();
    expect(fulfilled!.status).to.equal(1);
    const [status] = await coordinator.requestState(requestId);
    expect(status).to.equal(2n); // Fulfilled
    const block = await suite.publicClient.getBlock({ blockNumber: BigInt(fulfilled!.blockNumber) });
    const done = fulfilled!.logs.map((l) => coordinator.interface.parseLog(l)).find((e) => e?.name === "InferenceFulfilled");
    const receipt = {
      modelId,
      version: 1,
      inputCommitment: terms.inputCommitment,
      outputsHash: keccak256(
        AbiCoder.defaultAbiCoder().encode(
          ["int256[]"],
          [fulfilledOutputs({ outputWidth: done!.args.outputWidth, outputs: done!.args.outputs })],
        ),
      ),
      proofHash: keccak256(proof.proof),
      fulfiller: await prover!.getAddress(),
      fulfilledAt: block.timestamp,
      callback: 0, // None: the requester is an EOA
    };
    expect(await coordinator.checkReceipt(requestId, receipt)).to.equal(true);
    expect(await coordinator.checkReceipt(requestId, { ...receipt, fulfiller: await requester!.getAddress() })).to.equal(false);
    const [outputs] = await coordinator
      .queryFilter(coordinator.filters.InferenceFulfilled(requestId))
      .then((logs) => logs.map((l) => fulfilledOutputs(l.args)));
    expect(outputs).to.deep.equal(proof.outputs.fixed);
    expect(await coordinator.credits(await prover!.getAddress())).to.equal(fee);
  });
});
