import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { createPublicClient, createWalletClient, http, keccak256, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { inferenceVerifierAbi, modelRegistryAbi } from "../../prover/src/chain/abis.js";
import { decodeInputs } from "../../prover/src/models/inference.js";
import { projectRoot } from "../../prover/src/util/paths.js";
import { DEV_KEYS, deployFromArtifact, startHardhatNode, type LocalNode } from "../helpers/chain.js";
import { suiteVerifierArtifact } from "../../prover/src/models/suite-verifier.js";
import { builtExample, exampleProof } from "../helpers/models.js";

const CLI = join(projectRoot, "bin/zkinfer");

describe("zkinfer model register against `hardhat node` on 127.0.0.1", function () {
  let node: LocalNode;
  let registry: Address;
  let route: Address;
  let env: Record<string, string>;
  const account = privateKeyToAccount(DEV_KEYS[0]!);

  before(async () => {
    node = await startHardhatNode();
    const chain = { ...hardhat, rpcUrls: { default: { http: [node.url] } } };
    const wallet = createWalletClient({ chain, transport: http(node.url), account });
    const reader = createPublicClient({ chain, transport: http(node.url) });
    const suiteVerifier = await deployFromArtifact(wallet, reader, "generated/Halo2VerifierReusable.sol/Halo2VerifierReusable");
    registry = await deployFromArtifact(wallet, reader, "registry/ModelRegistry.sol/ModelRegistry", [
      account.address,
      suiteVerifier,
      suiteVerifierArtifact().codeHash,
      0n,
      0n,
    ]);
    route = await deployFromArtifact(wallet, reader, "verifier/InferenceVerifier.sol/InferenceVerifier", [registry]);
    env = { ZKINFER_RPC_URL: node.url, ZKINFER_PRIVATE_KEY: DEV_KEYS[0]!, ZKINFER_REGISTRY: registry };
  });
  after(async () => node?.stop());

  const register = (ref: string, extraEnv: Record<string, string> = {}, flags: string[] = []) =>
    spawnSync(CLI, ["model", "register", ref, "--json", ...flags], {
      encoding: "utf8",
      env: { ...process.env, ...env, ...extraEnv, ZKINFER_CONFIG: "" },
      timeout: 300_000,
    });

  it("registers the model and version 1 (its VKA, no verifier deployed) with every manifest hash, and prints gas", async () => {
    const model = await builtExample("diabetes-mlp");
    const r = register(model.dir);
    expect(r.status, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout) as {
      modelId: Hex;
      version: number;
      verifier: Address;
      vkaDigest: Hex;
      ceremonySrs: boolean;
      txs: { label: string; gasUsed: string }[];
    };
    expect(out.version).to.equal(1);
    expect(out.txs.map((t) => t.label)).to.deep.equal(["registerModel", "addVersion"]);
    expect(out.vkaDigest).to.equal(model.manifest.vka.digest);
    expect(out.ceremonySrs).to.equal(false);
    for (const t of out.txs) expect(Number(t.gasUsed)).to.be.greaterThan(21_000);

    const client = createPublicClient({ transport: http(node.url) });
    const v = await client.readContract({
      address: registry,
      abi: modelRegistryAbi,
      functionName: "getVersion",
      args: [out.modelId, 1],
    });
    const m = model.manifest;
    expect(v.modelHash).to.equal(`0x${m.hashes.model}`);
    expect(v.settingsHash).to.equal(`0x${m.hashes.settings}`);
    expect(v.circuitHash).to.equal(`0x${m.hashes.circuit}`);
    expect(v.srsHash).to.equal(`0x${m.hashes.srs}`);
    expect(v.vkHash).to.equal(`0x${m.hashes.vk}`);
    expect(v.vkaDigest).to.equal(m.vka.digest);
    expect(keccak256((await client.getCode({ address: out.verifier }))!)).to.equal(suiteVerifierArtifact().codeHash);
    expect(v.layout).to.deep.equal({ instanceCount: 11, inputOffset: 0, inputCount: 10, outputOffset: 10, outputCount: 1 });
    expect(v.circuitMetricBps).to.equal(Math.round(m.accuracy!.circuit! * 10_000));

    // A real proof verifies through the route on the node against what the CLI registered.
    const proof = await exampleProof("diabetes-mlp");
    const outputs = await client.readContract({
      address: route,
      abi: inferenceVerifierAbi,
      functionName: "verify",
      args: [out.modelId, 1, decodeInputs(m, proof.instances), proof.proof, proof.instances],
    });
    expect(outputs).to.deep.equal(proof.outputs.fixed);
  });

  it("refuses to register the same build again (error + hint naming --force), and --force adds version 2", async () => {
    const dir = (await builtExample("diabetes-mlp")).dir;
    const client = createPublicClient({ transport: http(node.url) });
    const nonceBefore = await client.getTransactionCount({ address: account.address });
    const refused = register(dir);
    expect(refused.status).to.equal(1);
    expect(refused.stderr).to.match(/^error: version 1 of 'diabetes-mlp' already has this build \(VKA digest 0x[0-9a-f]{64}\)/m);
    expect(refused.stderr).to.match(/^hint: pass --force/m);
    expect(await client.getTransactionCount({ address: account.address })).to.equal(nonceBefore);
    const r = register(dir, {}, ["--force"]);
    expect(r.status, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout) as { version: number; txs: { label: string }[] };
    expect(out.version).to.equal(2);
    expect(out.txs.map((t) => t.label)).to.deep.equal(["addVersion"]);
  });

  it("says which setting is missing when no registry or key is configured", () => {
    const r = spawnSync(CLI, ["model", "register", "diabetes-mlp"], {
      encoding: "utf8",
      env: { ...process.env, ZKINFER_RPC_URL: node.url, ZKINFER_PRIVATE_KEY: "", ZKINFER_REGISTRY: "", ZKINFER_CONFIG: "" },
    });
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/^error: no ModelRegistry address configured/m);
    const r2 = register("diabetes-mlp", { ZKINFER_PRIVATE_KEY: "" });
    expect(r2.status).to.equal(1);
    expect(r2.stderr).to.match(/^error: no signing key configured/m);
  });
});
