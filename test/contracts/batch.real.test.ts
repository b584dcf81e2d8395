import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeAbiParameters, encodeFunctionData, getAddress, sliceHex, type Hex } from "viem";
import { halo2VerifierReusableAbi } from "../../prover/src/chain/abis.js";
import { versionParams } from "../../prover/src/chain/register.js";
import { FIELD_MODULUS, feltToInt } from "../../prover/src/engine/felt.js";
import { decodeInputs, proveBatch, type BatchProof } from "../../prover/src/models/inference.js";
import { parseInput } from "../../prover/src/models/input.js";
import { readJson, type Heldout } from "../../prover/src/models/source.js";
import { variantModel } from "../../prover/src/models/variants.js";
import { readVka } from "../../prover/src/models/vka.js";
import { builtExampleBatches, exampleSource, sharedEngine } from "../helpers/models.js";
import { revertOf } from "../helpers/revert.js";
import { deploySuite } from "../helpers/suite.js";

/**
 * Real batch proofs of digits-mlp (its batch-4 variant: 4 requests' inputs in one EZKL proof) checked by
 * the suite verifier (EZKL's reusable verifier) on Hardhat's EVM, with the variant's VKA registered: bare,
 * and through the route with the variant registered as a version of its own (the registry holds no variants
 * yet; that is the on-chain half of issue 14). No mocks.
 */
describe("batch proofs through the suite verifier (Hardhat EVM, real EZKL)", function () {
  const BATCH = 4;
  let suite: Awaited<ReturnType<typeof deploySuite>>;
  let full: BatchProof;
  let padded: BatchProof;
  let words: Hex[];
  let modelId: Hex;
  let scratch: string;

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), "zkinfer-batch-proofs-"));
    suite = await deploySuite();
    const model = await builtExampleBatches("digits-mlp");
    const heldout = await readJson<Heldout>((await exampleSource("digits-mlp")).heldout!, "heldout.json");
    const inputs = heldout.inputs.slice(0, BATCH).map((x) => parseInput(x, model.manifest));
    full = await proveBatch(sharedEngine(), model, BATCH, inputs, { out: join(scratch, "full.proof.json") });
    padded = await proveBatch(sharedEngine(), model, BATCH, inputs.slice(0, 3), { out: join(scratch, "padded.proof.json") });
    const variant = variantModel(model, BATCH);
    words = (await readVka(variant.file("vka"))).words;
    // The variant as a version of a model of its own: the route binds the whole batch input and decodes every block.
    const { registry, publicClient, admin } = suite;
    await publicClient.waitForTransactionReceipt({ hash: await registry.write.registerModel(["digits-mlp-batch4"]) });
    modelId = await registry.read.computeModelId([admin.account.address, "digits-mlp-batch4"]);
    await publicClient.waitForTransactionReceipt({
      hash: await registry.write.addVersion([modelId, versionParams(variant.manifest, ""), words, [], false]),
    });
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  /**
   * The suite verifier called directly with the variant's VKA in calldata: (success, digest). Its return data
   * is EZKL's raw memory (the rescaled instances are not ABI-encoded for viem), so only the first two words are read.
   */
  async function bareVerify(proof: Hex, instances: readonly bigint[]): Promise<readonly [boolean, Hex]> {
    const { data } = await suite.publicClient.call({
      to: suite.suiteVerifier.address,
      data: encodeFunctionData({
        abi: halo2VerifierReusableAbi,
        functionName: "verifyProof",
        args: [proof, [...instances], words],
      }),
    });
    const [ok, digest] = decodeAbiParameters([{ type: "bool" }, { type: "bytes32" }], sliceHex(data!, 0, 64));
    return [ok, digest];
  }

  it("gives each block the outputs batch 1 gives its input alone", async () => {
    const model = await builtExampleBatches("digits-mlp");
    const heldout = await readJson<Heldout>((await exampleSource("digits-mlp")).heldout!, "heldout.json");
    const alone = await sharedEngine().witnessBatch({
      inputs: heldout.inputs.slice(0, BATCH),
      compiled: model.file("circuit"),
      scratch: join(scratch, "alone"),
    });
    expect(full.blocks).to.have.length(BATCH);
    expect(padded.blocks).to.have.length(3);
    for (const [i, w] of alone.entries()) {
      expect(full.blocks[i]!.fixed, `block ${i}`).to.deep.equal(w.outputs.flat().map(feltToInt));
      if (i < 3) expect(padded.blocks[i]!.fixed, `padded block ${i}`).to.deep.equal(full.blocks[i]!.fixed);
    }
    // The unclaimed block is zero input, proved like any other: only the claim list can tell padding from a request.
    expect(decodeInputs(variantModel(model, BATCH).manifest, padded.instances).slice(3 * 64)).to.deep.equal(
      new Array(64).fill(0n),
    );
  });

  it("verifies the batch-4 proof, full and padded 3-of-4, with the variant's registered VKA", async () => {
    const { suiteVerifier, publicClient, admin } = suite;
    const variant = variantModel(await builtExampleBatches("digits-mlp"), BATCH);
    // The registry's addVersion registered the VKA with the suite verifier (which requires it: "VKA not registered").
    for (const proof of [full, padded]) {
      const [ok, digest] = await bareVerify(proof.proof, proof.instances);
      expect(ok).to.equal(true);
      expect(digest).to.equal(variant.manifest.vka.digest);
    }
    // Gas of the verification as a mined transaction (what bench/ reports per batch size).
    const hash = await admin.sendTransaction({
      to: suiteVerifier.address,
      data: encodeFunctionData({
        abi: halo2VerifierReusableAbi,
        functionName: "verifyProof",
        args: [full.proof, full.instances, words],
      }),
    });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    expect(receipt.status).to.equal("success");
    expect(Number(receipt.gasUsed)).to.be.within(500_000, 2_000_000);
  });

  it("returns every block's outputs through the route, in block order", async () => {
    const model = await builtExampleBatches("digits-mlp");
    const input = decodeInputs(variantModel(model, BATCH).manifest, full.instances);
    const outputs = await suite.route.read.verify([modelId, 1, input, full.proof, full.instances]);
    expect(outputs).to.deep.equal(full.blocks.flatMap((b) => b.fixed));
  });

  describe("a tampered batch is rejected", () => {
    /** Instances with blocks i and j exchanged: inputs and outputs both, as if two requests swapped places. */
    function swapBlocks(instances: readonly bigint[], i: number, j: number): bigint[] {
      const out = [...instances];
      for (const [offset, count] of [
        [0, 64],
        [64 * BATCH, 10],
      ] as const) {
        for (let k = 0; k < count; k++) {
          out[offset + i * count + k] = instances[offset + j * count + k]!;
          out[offset + j * count + k] = instances[offset + i * count + k]!;
        }
      }
      return out;
    }

    it("two blocks swapped (inputs with their outputs): VerifierProofRejected, and the bare suite verifier reverts", async () => {
      const swapped = swapBlocks(full.instances, 0, 1);
      const model = await builtExampleBatches("digits-mlp");
      const input = decodeInputs(variantModel(model, BATCH).manifest, swapped);
      const r = await revertOf(suite.route.read.verify([modelId, 1, input, full.proof, swapped]));
      expect(r.errorName).to.equal("VerifierProofRejected");
      expect(r.args).to.deep.equal([modelId, 1, getAddress(suite.suiteVerifier.address)]);
      let reverted = false;
      await bareVerify(full.proof, swapped).catch(() => (reverted = true));
      expect(reverted).to.equal(true);
    });

    it("one block's outputs replaced by another's: VerifierProofRejected", async () => {
      const forged = [...full.instances];
      for (let k = 0; k < 10; k++) forged[64 * BATCH + 2 * 10 + k] = full.instances[64 * BATCH + 1 * 10 + k]!;
      const model = await builtExampleBatches("digits-mlp");
      const input = decodeInputs(variantModel(model, BATCH).manifest, full.instances);
      const r = await revertOf(suite.route.read.verify([modelId, 1, input, full.proof, forged]));
      expect(r.errorName).to.equal("VerifierProofRejected");
    });

    it("a block claimed with another request's input: VerifierInputMismatch(index, expected, actual)", async () => {
      const model = await builtExampleBatches("digits-mlp");
      const input = decodeInputs(variantModel(model, BATCH).manifest, full.instances);
      const claimed = [...input];
      // Block 3 (the padded proof's unclaimed block: zeros) presented as a request whose input is block 0's.
      for (let k = 0; k < 64; k++) claimed[3 * 64 + k] = input[k]!;
      const r = await revertOf(suite.route.read.verify([modelId, 1, claimed, padded.proof, padded.instances]));
      expect(r.errorName).to.equal("VerifierInputMismatch");
      const first = claimed.findIndex((v, k) => feltToInt(padded.instances[k]!) !== v);
      expect(first).to.be.within(3 * 64, 4 * 64 - 1);
      const felt = (v: bigint) => (v < 0n ? FIELD_MODULUS + v : v);
      expect(r.args).to.deep.equal([BigInt(first), felt(claimed[first]!), padded.instances[first]]);
    });
  });
});
