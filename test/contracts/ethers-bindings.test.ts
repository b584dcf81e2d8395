import { offerFor } from "../../prover/src/sdk/inference.js";
import { expect } from "chai";
import { keccak256 } from "ethers";
import { InferenceCoordinator__factory, ModelRegistry__factory } from "../../types/ethers-contracts/index.js";
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

    await (await coordinator.connect(prover!).lock([requestId])).wait();
    const fulfilled = await (await coordinator.connect(prover!).fulfill(requestId, proof.proof, proof.instances)).wait();
    expect(fulfilled!.status).to.equal(1);
    const receipt = await coordinator.receipt(requestId);
    expect(receipt.modelId).to.equal(modelId);
    expect(receipt.proofHash).to.equal(keccak256(proof.proof));
    expect(receipt.fulfiller).to.equal(await prover!.getAddress());
    const [outputs] = await coordinator
      .queryFilter(coordinator.filters.InferenceFulfilled(requestId))
      .then((logs) => logs.map((l) => l.args.outputs));
    expect(outputs).to.deep.equal(proof.outputs.fixed);
    expect(await coordinator.credits(await prover!.getAddress())).to.equal(fee);
  });
});
