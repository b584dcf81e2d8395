import { expect } from "chai";
import { InputShapeError } from "../../prover/src/errors.js";
import { decodeOutputTensors, encodeInput } from "../../prover/src/sdk/tensors.js";

describe("SDK: encode inputs from floats, decode named outputs", () => {
  const spec = {
    model: "two-inputs",
    count: 5,
    scale: 7,
    tensors: [
      { name: "a", count: 3 },
      { name: "b", count: 2 },
    ],
  };

  it("encodes floats at the input scale, rounding as EZKL does, in every accepted form", () => {
    const expected = [13n, -26n, 38n, 64n, -64n]; // round(x * 128): 12.8 -> 13, -25.6 -> -26, 38.4 -> 38
    expect(encodeInput([0.1, -0.2, 0.3, 0.5, -0.5], spec)).to.deep.equal(expected);
    expect(
      encodeInput(
        {
          input_data: [
            [0.1, -0.2, 0.3],
            [0.5, -0.5],
          ],
        },
        spec,
      ),
    ).to.deep.equal(expected);
    expect(encodeInput({ inputs: { b: [0.5, -0.5], a: [0.1, -0.2, 0.3] } }, spec)).to.deep.equal(expected);
  });

  it("refuses a tensor of the wrong length, naming it", () => {
    expect(() =>
      encodeInput(
        {
          input_data: [
            [0.1, 0.2],
            [0.5, -0.5, 1],
          ],
        },
        spec,
      ),
    ).to.throw(InputShapeError, /tensor 'a' has 2 values but model 'two-inputs' takes 3/);
  });

  it("splits a fulfilment's outputs into named tensors, each at its own scale", () => {
    const tensors = [
      { name: "logits", shape: [1, 2], offset: 5, count: 2, scale: 7 },
      { name: "score", shape: [1, 1], offset: 7, count: 1, scale: 3 },
    ];
    const out = decodeOutputTensors([128n, -64n, 12n], tensors);
    expect(out.map((t) => [t.name, t.float])).to.deep.equal([
      ["logits", [1, -0.5]],
      ["score", [1.5]],
    ]);
    expect(() => decodeOutputTensors([1n, 2n], tensors)).to.throw(InputShapeError);
  });
});
