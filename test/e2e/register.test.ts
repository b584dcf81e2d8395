import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, createWalletClient, http, keccak256, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { inferenceVerifierAbi, modelRegistryAbi } from "../../prover/src/chain/abis.js";
import { compileVerifier } from "../../prover/src/models/compile-verifier.js";
import { decodeInputs } from "../../prover/src/models/inference.js";
import { projectRoot } from "../../prover/src/util/paths.js";
import { DEV_KEYS, deployFromArtifact, startHardhatNode, type LocalNode } from "../helpers/chain.js";
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
    registry = await deployFromArtifact(wallet, reader, "registry/ModelRegistry.sol/ModelRegistry");
    route = await deployFromArtifact(wallet, reader, "verifier/InferenceVerifier.sol/InferenceVerifier", [registry]);
    env = { ZKINFER_RPC_URL: node.url, ZKINFER_PRIVATE_KEY: DEV_KEYS[0]!, ZKINFER_REGISTRY: registry };
  });
  after(async () => node?.stop());

  const register = (ref: string, extraEnv: Record<string, string> = {}) =>
    spawnSync(CLI, ["model", "register", ref, "--json"], {
      encoding: "utf8",
      env: { ...process.env, ...env, ...extraEnv, ZKINFER_CONFIG: "" },
      timeout: 300_000,
    });

  it("deploys the verifier, registers the model and version 1 with every manifest hash, and prints gas", async () => {
    const model = await builtExample("diabetes-mlp");
    const r = register(model.dir);
    expect(r.status, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout) as {
      modelId: Hex;
      version: number;
      verifier: Address;
      txs: { label: string; gasUsed: string }[];
    };
    expect(out.version).to.equal(1);
    expect(out.txs.map((t) => t.label)).to.deep.equal(["deploy verifier", "registerModel", "addVersion"]);
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
    expect(v.verifierCodeHash).to.equal(m.verifier.codeHash);
    expect(keccak256((await client.getCode({ address: out.verifier }))!)).to.equal(m.verifier.codeHash);
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

  it("adds version 2 to an already registered model", async () => {
    const r = register((await builtExample("diabetes-mlp")).dir);
    expect(r.status, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout) as { version: number; txs: { label: string }[] };
    expect(out.version).to.equal(2);
    expect(out.txs.map((t) => t.label)).to.deep.equal(["deploy verifier", "addVersion"]);
  });

  it("refuses a verifier over EIP-170's 24,576 bytes before sending anything", async () => {
    // A real over-size contract compiled by the project's solc, in a copy of a real artifact directory.
    const dir = mkdtempSync(join(tmpdir(), "zkinfer-big-"));
    try {
      const model = await builtExample("diabetes-mlp");
      cpSync(model.dir, dir, { recursive: true, dereference: false });
      const blob = "0x" + "ab".repeat(13_000);
      const big = compileVerifier(
        `// SPDX-License-Identifier: MIT\npragma solidity ^0.8.0;\ncontract Big {\n function a() external pure returns (bytes memory) { return hex"${blob.slice(2)}"; }\n function b() external pure returns (bytes memory) { return hex"${blob.slice(2).replace(/ab/g, "cd")}"; }\n}\n`,
      );
      expect(big.deployedSize).to.be.greaterThan(24_576);
      writeFileSync(join(dir, "verifier.json"), JSON.stringify(big));
      const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
      manifest.verifier = {
        ...manifest.verifier,
        deployedSize: big.deployedSize,
        withinSizeLimit: false,
        codeHash: big.codeHash,
      };
      writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
      const client = createPublicClient({ transport: http(node.url) });
      const nonceBefore = await client.getTransactionCount({ address: account.address });
      const r = register(dir);
      expect(r.status).to.equal(1);
      expect(r.stderr).to.match(
        /^error: the verifier of 'diabetes-mlp' is \d+ bytes of runtime code, over EIP-170's 24576-byte limit/m,
      );
      expect(r.stderr).to.match(/^hint: shrink the circuit/m);
      expect(await client.getTransactionCount({ address: account.address })).to.equal(nonceBefore);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
