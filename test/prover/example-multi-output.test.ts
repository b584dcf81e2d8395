import { expect } from "chai";
import { decodeOutputTensors } from "../../prover/src/sdk/tensors.js";
import { verifyProofFile } from "../../prover/src/models/inference.js";
import { readJson, type Heldout } from "../../prover/src/models/source.js";
import { builtExample, exampleProof, exampleSource, sharedEngine } from "../helpers/models.js";

/**
 * The multi-output example (examples/models/linnerud-mlp: one input tensor, two output tensors from a shared
 * hidden layer), built and proved with real EZKL: the instance layout names both outputs, the proof returns them
 * as named tensors close to the float model's, and the SDK splits a fulfilment's outputs the same way.
 */
describe("example linnerud-mlp: a model with two output tensors (real EZKL)", () => {
  it("records both outputs by name in the layout, proves them as named tensors within tolerance, and the SDK decodes them", async () => {
    const model = await builtExample("linnerud-mlp");
    const layout = model.manifest.circuit.instanceLayout;
    expect(layout.inputs.map((t) => [t.name, t.count])).to.deep.equal([["exercise", 3]]);
    expect(layout.outputs.map((t) => [t.name, t.count])).to.deep.equal([
      ["body", 2],
      ["pulse", 1],
    ]);

    const proof = await exampleProof("linnerud-mlp");
    const heldout = await readJson<Heldout>((await exampleSource("linnerud-mlp")).heldout!, "heldout.json");
    const expected = heldout.float_outputs[0]!;
    expect(proof.outputs.tensors.map((t) => t.name)).to.deep.equal(["body", "pulse"]);
    const got = proof.outputs.tensors.flatMap((t) => t.float);
    expect(got).to.have.length(3);
    for (const [i, v] of got.entries()) expect(Math.abs(v - expected[i]!), `output ${i}`).to.be.below(0.01);

    const verified = await verifyProofFile(sharedEngine(), model, proof.proofPath);
    expect(verified.valid, verified.reason ?? "").to.equal(true);

    // What a consumer receives on-chain is every output's fixed-point value in layout order: split by name.
    const tensors = decodeOutputTensors(proof.outputs.fixed, layout.outputs);
    expect(tensors.map((t) => [t.name, t.float])).to.deep.equal(proof.outputs.tensors.map((t) => [t.name, t.float]));
  });
});
