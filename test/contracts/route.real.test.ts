import { expect } from "chai";
import { join } from "node:path";
import { encodeFunctionData, getAddress, type Address, type Hex } from "viem";
import { halo2VerifierReusableAbi } from "../../prover/src/chain/abis.js";
import { readModelVka, versionParams } from "../../prover/src/chain/register.js";
import { readCompiledVerifier } from "../../prover/src/models/compile-verifier.js";
import { FIELD_MODULUS } from "../../prover/src/engine/felt.js";
import { decodeInputs } from "../../prover/src/models/inference.js";
import { projectRoot } from "../../prover/src/util/paths.js";
import { deploySuite } from "../helpers/suite.js";
import { deployModelVerifier } from "../helpers/chain.js";
import { builtExample, EXAMPLE_MODELS, exampleProof, type ExampleModel } from "../helpers/models.js";
import { revertOf } from "../helpers/revert.js";
import { checkGasSnapshot, type GasFigures } from "../helpers/gas.js";

/**
 * Real EZKL proofs of the example models checked through ModelRegistry + InferenceVerifier + the
 * suite verifier (EZKL's reusable verifier, compiled by the project's solc) on Hardhat's EVM, each
 * model registered as data (its VKA). No mocks. The single-model verifier of each build is deployed
 * only as the gas baseline.
 */
const SNAPSHOT = join(projectRoot, "test/gas/route.json");

async function fixture() {
  const suite = await deploySuite();
  const registered = new Map<ExampleModel, Awaited<ReturnType<typeof suite.registerExample>>>();
  async function register(name: ExampleModel) {
    registered.set(name, await suite.registerExample(name));
    return registered.get(name)!;
  }
  return { ...suite, owner: suite.admin, stranger: suite.wallets[2]!, register, registered };
}

describe("verifier route with real EZKL proofs (Hardhat EVM)", function () {
  let f: Awaited<ReturnType<typeof fixture>>;
  const gas: GasFigures = {};

  before(async () => {
    f = await fixture();
    for (const name of EXAMPLE_MODELS) await f.register(name);
  });

  for (const name of EXAMPLE_MODELS) {
    describe(name, () => {
      it("returns the outputs decoded off-chain; gas beside the single-model and the bare reusable verifier", async () => {
        const proof = await exampleProof(name);
        const model = await builtExample(name);
        const { modelId, version, verifier, addVersionGas } = registered(name);
        const input = decodeInputs(model.manifest, proof.instances);
        const outputs = await f.route.read.verify([modelId, version, input, proof.proof, proof.instances]);
        expect(outputs).to.deep.equal(proof.outputs.fixed);

        // Gas as a transaction pays it (gasUsed of a mined call), not eth_estimateGas, which pads
        // nested calls for the 63/64 forwarding rule.
        const single = await deployModelVerifier(f.owner, f.publicClient, model);
        const singleAbi = (await readCompiledVerifier(model)).abi;
        const bare = await gasUsedOf(
          single,
          encodeFunctionData({ abi: singleAbi, functionName: "verifyProof", args: [proof.proof, proof.instances] }),
        );
        const vka = await readModelVka(model);
        const bareReusable = await gasUsedOf(
          verifier,
          encodeFunctionData({
            abi: halo2VerifierReusableAbi,
            functionName: "verifyProof",
            args: [proof.proof, proof.instances, vka.words],
          }),
        );
        const routed = await gasUsedOf(
          f.route.address,
          encodeFunctionData({
            abi: f.route.abi,
            functionName: "verify",
            args: [modelId, version, input, proof.proof, proof.instances],
          }),
        );
        gas[name] = {
          bareVerifyProof: Number(bare),
          bareReusableVerifyProofVkaInCalldata: Number(bareReusable),
          routeVerify: Number(routed),
          addVersion: Number(addVersionGas),
          vkaWords: vka.words.length,
          routeOverBare: Math.round((Number(routed) / Number(bare)) * 1000) / 1000,
        };
        // The route reads the VKA from its on-chain store instead of calldata, which pays for most of its own
        // checks (version, input, digest): measured +8k over the bare reusable verifier with the VKA sent along
        // for tuned digits-mlp (126-word VKA), -19.5k for diabetes-mlp (157 words).
        expect(Number(routed - bareReusable), `route ${routed} vs bare reusable ${bareReusable}`).to.be.below(30_000);
      });

      it("rejects a proof with a flipped byte: VerifierProofRejected", async () => {
        const proof = await exampleProof(name);
        const { modelId, version, verifier } = registered(name);
        const bytes = Buffer.from(proof.proof.slice(2), "hex");
        bytes[100] = bytes[100]! ^ 0x01;
        const input = decodeInputs((await builtExample(name)).manifest, proof.instances);
        const r = await revertOf(f.route.read.verify([modelId, version, input, `0x${bytes.toString("hex")}`, proof.instances]));
        expect(r.errorName).to.equal("VerifierProofRejected");
        expect(r.args).to.deep.equal([modelId, version, getAddress(verifier)]);
        expect(getAddress(verifier)).to.equal(getAddress(f.suiteVerifier.address));
      });

      it("rejects a changed output instance: VerifierProofRejected", async () => {
        const proof = await exampleProof(name);
        const { modelId, version } = registered(name);
        const instances = [...proof.instances];
        instances[instances.length - 1] = (instances.at(-1)! + 1n) % FIELD_MODULUS;
        const input = decodeInputs((await builtExample(name)).manifest, proof.instances);
        const r = await revertOf(f.route.read.verify([modelId, version, input, proof.proof, instances]));
        expect(r.errorName).to.equal("VerifierProofRejected");
      });

      it("rejects an input that is not the proof's input: VerifierInputMismatch(index, expected, actual)", async () => {
        const proof = await exampleProof(name);
        const { modelId, version } = registered(name);
        const input = decodeInputs((await builtExample(name)).manifest, proof.instances);
        const swapped = [...input];
        swapped[3] = swapped[3]! + 1n;
        const r = await revertOf(f.route.read.verify([modelId, version, swapped, proof.proof, proof.instances]));
        expect(r.errorName).to.equal("VerifierInputMismatch");
        expect(r.args).to.deep.equal([3n, swapped[3]! < 0n ? FIELD_MODULUS + swapped[3]! : swapped[3]!, proof.instances[3]]);
      });
    });
  }

  it("rejects another model's proof (digits-mlp presented as digits-cnn, same layout): VerifierProofRejected", async () => {
    const cnn = await f.register("digits-cnn");
    const proof = await exampleProof("digits-mlp");
    const input = decodeInputs((await builtExample("digits-mlp")).manifest, proof.instances);
    const r = await revertOf(f.route.read.verify([cnn.modelId, cnn.version, input, proof.proof, proof.instances]));
    expect(r.errorName).to.equal("VerifierProofRejected");
    expect(r.args[0]).to.equal(cnn.modelId);
  });

  it("rejects a proof of diabetes-mlp presented as digits-mlp: VerifierInstanceCountMismatch", async () => {
    const digits = registered("digits-mlp");
    const proof = await exampleProof("diabetes-mlp");
    const input = decodeInputs((await builtExample("diabetes-mlp")).manifest, proof.instances);
    const r = await revertOf(f.route.read.verify([digits.modelId, digits.version, input, proof.proof, proof.instances]));
    expect(r.errorName).to.equal("VerifierInstanceCountMismatch");
    expect(r.args).to.deep.equal([74n, BigInt(proof.instances.length)]);
  });

  it("verifies a deprecated version (deprecation only stops new requests)", async () => {
    const { modelId, version } = registered("diabetes-mlp");
    const proof = await exampleProof("diabetes-mlp");
    const input = decodeInputs((await builtExample("diabetes-mlp")).manifest, proof.instances);
    await f.publicClient.waitForTransactionReceipt({ hash: await f.registry.write.deprecateVersion([modelId, version]) });
    expect(await f.route.read.verify([modelId, version, input, proof.proof, proof.instances])).to.deep.equal(proof.outputs.fixed);
    await f.publicClient.waitForTransactionReceipt({ hash: await f.registry.write.reactivateVersion([modelId, version]) });
  });

  it("records the dev SRS of the test builds on-chain, readable from the registry", async () => {
    for (const name of EXAMPLE_MODELS) {
      const { modelId, version, vkaDigest } = registered(name);
      const m = (await builtExample(name)).manifest;
      expect(m.srs.provenance).to.equal("dev");
      expect(await f.registry.read.usesCeremonySrs([modelId, version])).to.equal(false);
      expect(vkaDigest).to.equal(m.vka.digest);
    }
  });

  it("refuses to register the same build twice: RegistryVersionDuplicate(modelId, digest, 1)", async () => {
    const { modelId, vkaDigest } = registered("digits-mlp");
    const model = await builtExample("digits-mlp");
    const vka = await readModelVka(model);
    const r = await revertOf(f.registry.write.addVersion([modelId, versionParams(model.manifest, ""), vka.words, [], false]));
    expect(r.errorName).to.equal("RegistryVersionDuplicate");
    expect(r.args).to.deep.equal([modelId, vkaDigest, 1]);
  });

  it("rejects an unregistered model: VerifierModelUnknown", async () => {
    const proof = await exampleProof("digits-mlp");
    const unknown = `0x${"ab".repeat(32)}` as Hex;
    const input = decodeInputs((await builtExample("digits-mlp")).manifest, proof.instances);
    const r = await revertOf(f.route.read.verify([unknown, 1, input, proof.proof, proof.instances]));
    expect(r.errorName).to.equal("VerifierModelUnknown");
    expect(r.args).to.deep.equal([unknown]);
  });

  it("refuses a non-owner adding, deprecating or transferring a model: RegistryNotModelOwner", async () => {
    const { modelId, version } = registered("digits-mlp");
    const asStranger = { account: f.stranger.account };
    const model = await builtExample("digits-mlp");
    const vka = await readModelVka(model);
    for (const call of [
      f.registry.write.deprecateVersion([modelId, version], asStranger),
      f.registry.write.revokeVersion([modelId, version], asStranger),
      f.registry.write.addVersion([modelId, versionParams(model.manifest, ""), vka.words, [], true], asStranger),
      f.registry.write.transferModelOwnership([modelId, f.stranger.account.address], asStranger),
    ]) {
      const r = await revertOf(call);
      expect(r.errorName).to.equal("RegistryNotModelOwner");
      expect(r.args).to.deep.equal([modelId, getAddress(f.stranger.account.address), getAddress(f.owner.account.address)]);
    }
  });

  after(() => {
    if (Object.keys(gas).length === EXAMPLE_MODELS.length)
      checkGasSnapshot(SNAPSHOT, gas, ["bareVerifyProof", "bareReusableVerifyProofVkaInCalldata", "routeVerify", "addVersion"]);
  });

  async function gasUsedOf(to: Address, data: Hex): Promise<bigint> {
    const hash = await f.owner.sendTransaction({ to, data });
    const receipt = await f.publicClient.waitForTransactionReceipt({ hash });
    expect(receipt.status).to.equal("success");
    return receipt.gasUsed;
  }

  function registered(name: ExampleModel) {
    const r = f.registered.get(name);
    if (!r) throw new Error(`${name} is not registered in this fixture`);
    return r;
  }
});
