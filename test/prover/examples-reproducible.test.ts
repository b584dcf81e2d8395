import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../../prover/src/util/paths.js";

/**
 * Each example model's README says its train.py is deterministic and rewrites every file of the example: run
 * each one on a copy of examples/models/ and compare every file it writes, byte for byte, with the committed
 * one. (OpenBLAS chooses kernels by CPU and splits sums by thread; the scripts pin both, see train.py.)
 */
describe("example models: train.py reproduces the committed files", function () {
  this.timeout(300_000);
  let dir: string;
  const examples = join(projectRoot, "examples/models");
  const names = readdirSync(examples, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith("_"))
    .map((e) => e.name);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "zkinfer-train-"));
    cpSync(examples, dir, { recursive: true });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("finds the examples", () => expect(names).to.include.members(["digits-mlp", "diabetes-mlp", "credit-logreg"]));

  for (const name of names) {
    it(`${name}: every file train.py writes is byte-identical to the committed one`, () => {
      const committed = join(examples, name);
      const files = readdirSync(committed).filter((f) => /\.(onnx|json)$/.test(f));
      expect(files, "the example's files").to.include("network.onnx");
      // Blank out the copies first, so that a file the script no longer writes cannot pass as reproduced.
      for (const f of files) rmSync(join(dir, name, f));
      execFileSync(join(projectRoot, ".venv/bin/python"), [join(dir, name, "train.py")], { stdio: "pipe" });
      for (const f of files) {
        const same = readFileSync(join(dir, name, f)).equals(readFileSync(join(committed, f)));
        expect(same, `${name}/${f} differs from the committed file after train.py`).to.equal(true);
      }
    });
  }
});
