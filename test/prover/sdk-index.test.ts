import { expect } from "chai";
import * as sdk from "../../prover/src/sdk/index.js";
import * as inference from "../../prover/src/sdk/inference.js";
import * as receipt from "../../prover/src/sdk/receipt.js";
import * as tensors from "../../prover/src/sdk/tensors.js";
import * as terms from "../../prover/src/sdk/terms.js";
import * as deployment from "../../prover/src/sdk/deployment.js";

/**
 * @zkinfer/sdk's entry point (prover/src/sdk/index.ts, what the package's dist exports) re-exports everything the SDK
 * modules export, so a function added to one of them is not silently missing from the package.
 */
describe("@zkinfer/sdk's entry point", () => {
  for (const [file, mod] of Object.entries({ inference, receipt, tensors, terms, deployment })) {
    it(`re-exports every runtime export of sdk/${file}.ts`, () => {
      const missing = Object.keys(mod).filter((k) => !(k in sdk));
      expect(missing, `add to prover/src/sdk/index.ts`).to.deep.equal([]);
    });
  }

  it("has no EZKL in it: verifyReceiptLocally (engine) is not exported", () => {
    expect(sdk).to.not.have.property("verifyReceiptLocally");
  });
});
