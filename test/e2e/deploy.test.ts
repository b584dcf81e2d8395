import { expect } from "chai";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  getAddress,
  http,
  keccak256,
  parseEther,
  type Address,
  type Hex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { inferenceCoordinatorAbi, inferenceVerifierAbi } from "../../prover/src/chain/abis.js";
import { readDeployment } from "../../prover/src/chain/deployments.js";
import { lockAndFulfil, lockRequests } from "../../prover/src/chain/fulfil.js";
import { decodeInputs } from "../../prover/src/models/inference.js";
import {
  deadlineIn,
  getRegisteredVersion,
  requestInference,
  settleRequest,
  waitForInference,
} from "../../prover/src/sdk/inference.js";
import {
  fetchFulfilment,
  FulfilmentNotFoundError,
  outputsHashOf,
  readReceipt,
  ReceiptMismatchError,
  verifyReceipt,
} from "../../prover/src/sdk/receipt.js";
import { hashTerms, requestState, requestsInLogs } from "../../prover/src/sdk/terms.js";
import { verifyReceiptLocally } from "../../prover/src/sdk/verify-local.js";
import { projectRoot } from "../../prover/src/util/paths.js";
import { artifactAbi, deployFromArtifact, DEV_KEYS, startHardhatNode, type LocalNode } from "../helpers/chain.js";
import { zkinfer } from "../helpers/cli.js";
import { revertOf } from "../helpers/revert.js";
import { builtExample, exampleProof, sharedEngine } from "../helpers/models.js";

/**
 * A deployment the way a new user makes one: `zkinfer deploy` (the Ignition modules the test fixtures
 * use) against `hardhat node` on 127.0.0.1, then `zkinfer model register` finding the suite through
 * the deployment record, then a request through the SDK, fulfilled with a real EZKL proof, whose
 * receipt is checked again from the chain and with EZKL.
 */
describe("zkinfer deploy (Ignition) against `hardhat node`, then register and a verified request", function () {
  let node: LocalNode;
  let dir: string;
  let env: Record<string, string>;
  let record: NonNullable<ReturnType<typeof readDeployment>>;
  let modelId: Hex;
  const guardian = privateKeyToAccount(DEV_KEYS[1]!).address;

  before(async () => {
    node = await startHardhatNode();
    dir = mkdtempSync(join(tmpdir(), "zkinfer-deployments-"));
    env = { ZKINFER_RPC_URL: node.url, ZKINFER_PRIVATE_KEY: DEV_KEYS[0]!, ZKINFER_DEPLOYMENTS_DIR: dir };
  });
  after(async () => {
    await node?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const client = () => createPublicClient({ chain: hardhat, transport: http(node.url) });

  it("deploys registry, route and coordinator and writes deployments/31337.json", async () => {
    const r = await zkinfer(["deploy", "--guardian", guardian, "--json"], env);
    expect(r.status, r.stderr).to.equal(0);
    const printed = JSON.parse(r.stdout) as { file: string; chainId: number };
    expect(printed.file).to.equal(join(dir, "31337.json"));
    record = readDeployment(31337, dir)!;
    expect(record, "deployment record").to.not.equal(undefined);
    const deployer = privateKeyToAccount(DEV_KEYS[0]!).address;
    expect(record.deployer).to.equal(getAddress(deployer));
    expect(record.owner).to.equal(getAddress(deployer));
    expect(record.guardian).to.equal(getAddress(guardian));

    // The record is what is on the chain: the contracts are wired to each other.
    const c = client();
    const { ModelRegistry, InferenceVerifier, InferenceCoordinator } = record.contracts;
    for (const a of [ModelRegistry, InferenceVerifier, InferenceCoordinator]) {
      expect(await c.getCode({ address: a.address }), a.address).to.match(/^0x[0-9a-f]{100,}$/);
      expect(Number(a.gasUsed)).to.be.greaterThan(100_000);
    }
    const read = (functionName: "registry" | "route" | "guardian" | "owner") =>
      c.readContract({ address: InferenceCoordinator.address, abi: inferenceCoordinatorAbi, functionName });
    expect(await read("registry")).to.equal(ModelRegistry.address);
    expect(await read("route")).to.equal(InferenceVerifier.address);
    expect(await read("guardian")).to.equal(getAddress(guardian));
    expect(
      await c.readContract({ address: InferenceVerifier.address, abi: inferenceVerifierAbi, functionName: "registry" }),
    ).to.equal(ModelRegistry.address);
    // A local chain's Ignition journal is thrown away with it.
    const journals = join(projectRoot, "deploy/deployments");
    if (existsSync(journals)) expect(readdirSync(journals).filter((d) => d.startsWith("local-"))).to.deep.equal([]);
  });

  it("registers digits-mlp through the deployment record, with no registry address configured", async () => {
    const r = await zkinfer(["model", "register", "digits-mlp", "--json"], env);
    expect(r.status, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout) as { registry: Address; modelId: Hex; version: number };
    expect(out.registry).to.equal(record.contracts.ModelRegistry.address);
    expect(out.version).to.equal(1);
    modelId = out.modelId;
  });

  it("audits the registered version: keys and verifier rebuilt from the published files match the chain", async () => {
    const owner = privateKeyToAccount(DEV_KEYS[0]!).address;
    const r = await zkinfer(["model", "audit", "digits-mlp", "--owner", owner, "--json"], env);
    expect(r.status, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout) as { ok: boolean; checks: { link: string; result: string }[] };
    expect(out.ok).to.equal(true);
    // Batch variants another test built into the shared cache (`model build --batch`) are audited too, each link a match.
    const [variants, base] = [
      out.checks.filter((c) => /^batch \d+: /.test(c.link)),
      out.checks.filter((c) => !/^batch \d+: /.test(c.link)),
    ];
    expect(variants.filter((c) => c.result !== "match")).to.deep.equal([]);
    expect(Object.fromEntries(base.map((c) => [c.link, c.result]))).to.deep.equal({
      "ONNX model (sha256)": "match",
      "settings.json (sha256)": "match",
      "SRS (sha256)": "match",
      "compiled circuit (sha256)": "reported",
      "SRS provenance (sha256 vs EZKL's pinned ceremony hash)": "match",
      "verifying key (sha256)": "match",
      "VKA digest (keccak256)": "match",
      "SRS G2 points in the VKA": "match",
      "VKA stored on-chain (keccak256)": "match",
      "suite verifier (extcodehash)": "match",
      "suite verifier vs this checkout's": "match",
      "batch variants registered with the version": "match",
    });

    // Another model's files do not pass for digits-mlp's registration.
    // Exit code 1 is also an error's: every assertion names stderr, so that an error is told from a mismatch.
    const other = await zkinfer(["model", "audit", "diabetes-mlp", "--model-id", modelId, "--version", "1"], env);
    const said = `stdout:\n${other.stdout}\nstderr:\n${other.stderr}`;
    expect(other.status, said).to.equal(1);
    expect(other.stdout, said).to.match(/^ONNX model \(sha256\)\s+MISMATCH/m);
    expect(other.stdout, said).to.match(/^verifying key \(sha256\)\s+MISMATCH/m);
    expect(other.stdout, said).to.match(/^AUDIT FAILED/m);
  });

  it("fulfils a request with a real proof; the receipt verifies from the chain and with EZKL", async () => {
    const c = client();
    const transport = http(node.url);
    const requester = createWalletClient({ chain: hardhat, transport, account: privateKeyToAccount(DEV_KEYS[2]!) });
    const prover = createWalletClient({ chain: hardhat, transport, account: privateKeyToAccount(DEV_KEYS[1]!) });
    const coordinator = record.contracts.InferenceCoordinator.address;
    const model = await builtExample("digits-mlp");
    const proof = await exampleProof("digits-mlp");
    const version = await getRegisteredVersion(c, record.contracts.ModelRegistry.address, modelId);
    expect(version.verifier).to.not.equal(undefined);

    const submitted = await requestInference(requester, c, {
      coordinator,
      modelId,
      input: decodeInputs(model.manifest, proof.instances),
      fee: parseEther("0.001"),
    });
    // The terms the SDK returns are the logged ones, bit for bit: the request's id is their hash.
    expect(submitted.requestId).to.equal(BigInt(hashTerms(submitted.terms)));
    expect(submitted.terms).to.include({ requester: requester.account.address, modelId, version: 1 });
    expect(await requestState(c, coordinator, submitted.requestId)).to.include({ status: "open" });
    for (const early of [
      await fetchFulfilment(c, { coordinator, requestId: submitted.requestId }).catch((e: unknown) => e),
      await readReceipt(c, { coordinator, requestId: submitted.requestId }).catch((e: unknown) => e),
    ])
      expect(early).to.be.instanceOf(FulfilmentNotFoundError);
    const { lock } = await lockAndFulfil(prover, c, coordinator, submitted.requestId, proof.proof, proof.instances, {
      terms: submitted.terms,
    });
    expect(lock?.status, "locked before the fulfilment").to.equal("success");
    const result = await waitForInference(c, { coordinator, requestId: submitted.requestId, timeoutMs: 30_000 });
    expect(result.outputs).to.deep.equal(proof.outputs.fixed);

    // The receipt, rebuilt from the logs and confirmed by checkReceipt: an account gets no callback.
    const block = await c.getBlock({ blockNumber: result.blockNumber });
    expect(result.callback).to.equal("none");
    expect(result.receipt).to.deep.equal({
      modelId,
      version: 1,
      inputCommitment: submitted.inputCommitment,
      outputsHash: outputsHashOf(proof.outputs.fixed),
      proofHash: keccak256(proof.proof),
      fulfiller: prover.account.address,
      fulfilledAt: block.timestamp,
      callback: 0,
    });
    expect(await readReceipt(c, { coordinator, requestId: submitted.requestId, terms: submitted.terms })).to.deep.equal(
      result.receipt,
    );
    const checkReceipt = (r: typeof result.receipt) =>
      c.readContract({
        address: coordinator,
        abi: inferenceCoordinatorAbi,
        functionName: "checkReceipt",
        args: [submitted.requestId, r],
      });
    expect(await checkReceipt(result.receipt)).to.equal(true);
    expect(await checkReceipt({ ...result.receipt, callback: 1 }), "another callback status").to.equal(false);
    expect(await checkReceipt({ ...result.receipt, fulfilledAt: result.receipt.fulfilledAt + 1n })).to.equal(false);
    // `zkinfer request status` shows the same, read-only (no key).
    const status = await zkinfer(["request", "status", String(submitted.requestId), "--json"], {
      ...env,
      ZKINFER_PRIVATE_KEY: "",
    });
    expect(status.status, status.stderr).to.equal(0);
    const shown = JSON.parse(status.stdout) as {
      status: string;
      terms: { requester: string; inputCommitment: string };
      callback: string;
      fulfilment: { txHash: string; outputs: string[]; receipt: { proofHash: string; fulfiller: string } };
    };
    expect(shown).to.deep.include({ status: "fulfilled", callback: "none" });
    expect(shown.terms).to.include({ requester: requester.account.address, inputCommitment: submitted.inputCommitment });
    expect(shown.fulfilment.txHash).to.equal(result.txHash);
    expect(shown.fulfilment.outputs).to.deep.equal(proof.outputs.fixed.map(String));
    expect(shown.fulfilment.receipt).to.include({ proofHash: keccak256(proof.proof), fulfiller: prover.account.address });
    // Terms that are not the request's rebuild a receipt the coordinator does not store.
    const forged = { ...submitted.terms, inputCommitment: keccak256("0x01") };
    const mismatch = await readReceipt(c, { coordinator, requestId: submitted.requestId, terms: forged }).catch(
      (e: unknown) => e,
    );
    expect(mismatch).to.be.instanceOf(ReceiptMismatchError);

    const v = await verifyReceipt(c, { coordinator, requestId: submitted.requestId });
    expect(
      v.checks.filter((x) => !x.ok),
      JSON.stringify(v.checks),
    ).to.deep.equal([]);
    expect(v.checks.map((x) => x.name)).to.deep.equal([
      "receipt",
      "proof hash",
      "input commitment",
      "outputs",
      "model version",
      "VKA",
      "proof",
    ]);
    expect(v.valid).to.equal(true);
    expect(v.input).to.deep.equal(decodeInputs(model.manifest, proof.instances));
    expect(v.fulfilment.terms, "the terms the fulfilment passed back").to.deep.equal(submitted.terms);
    expect(v.fulfilment.receipt).to.deep.equal(result.receipt);

    const local = await verifyReceiptLocally(sharedEngine(), model, v.fulfilment, {
      client: c,
      registry: record.contracts.ModelRegistry.address,
    });
    expect(local.valid, JSON.stringify(local.checks)).to.equal(true);

    // Another model's build is not the registered one: refused before EZKL is asked.
    const other = await verifyReceiptLocally(sharedEngine(), await builtExample("diabetes-mlp"), v.fulfilment, {
      client: c,
      registry: record.contracts.ModelRegistry.address,
    });
    expect(other.valid).to.equal(false);
    expect(other.checks[0]).to.include({ name: "verifying key", ok: false });

    // A flipped proof byte is caught by both the hash check and the verifier.
    const flipped = { ...v.fulfilment, proof: flipByte(v.fulfilment.proof, 100) };
    const tampered = await verifyReceiptLocally(sharedEngine(), model, flipped, {
      client: c,
      registry: record.contracts.ModelRegistry.address,
    });
    expect(tampered.checks.find((x) => x.name === "proof (EZKL)")).to.include({ ok: false });
  });

  it("rebuilds a failed callback's receipt (CallbackFailed) and a consumer's request; the coordinator confirms it", async () => {
    const c = client();
    const transport = http(node.url);
    const owner = createWalletClient({ chain: hardhat, transport, account: privateKeyToAccount(DEV_KEYS[0]!) });
    const prover = createWalletClient({ chain: hardhat, transport, account: privateKeyToAccount(DEV_KEYS[1]!) });
    const coordinator = record.contracts.InferenceCoordinator.address;
    const model = await builtExample("digits-mlp");
    const proof = await exampleProof("digits-mlp");
    const consumer = await deployFromArtifact(owner, c, "test/MockConsumers.sol/RevertingConsumer", [coordinator]);
    const hash = await owner.writeContract({
      address: consumer,
      abi: artifactAbi("test/MockConsumers.sol/RevertingConsumer"),
      functionName: "request",
      args: [modelId, 1, decodeInputs(model.manifest, proof.instances), 100_000, await deadlineIn(c, 600)],
      value: parseEther("0.001"),
    });
    const [requested] = requestsInLogs((await c.waitForTransactionReceipt({ hash })).logs);
    expect(requested!.terms).to.include({ requester: getAddress(consumer), callbackGasLimit: 100_000 });
    const requestId = requested!.requestId;
    await lockAndFulfil(prover, c, coordinator, requestId, proof.proof, proof.instances);
    const result = await waitForInference(c, { coordinator, requestId, fromBlock: requested!.blockNumber, timeoutMs: 30_000 });
    expect(result.callback).to.equal("failed");
    expect(result.receipt.callback).to.equal(2);
    expect(await readReceipt(c, { coordinator, requestId })).to.deep.equal(result.receipt);
    for (const callback of [0, 1])
      expect(
        await c.readContract({
          address: coordinator,
          abi: inferenceCoordinatorAbi,
          functionName: "checkReceipt",
          args: [requestId, { ...result.receipt, callback }],
        }),
        `callback ${callback}`,
      ).to.equal(false);
    const v = await verifyReceipt(c, { coordinator, requestId });
    expect(v.valid, JSON.stringify(v.checks)).to.equal(true);
  });

  it("`zkinfer request cancel|refund` pass back the logged terms (and lock); forged terms or locks revert CoordinatorTermsMismatch", async () => {
    const c = client();
    const transport = http(node.url);
    const requester = createWalletClient({ chain: hardhat, transport, account: privateKeyToAccount(DEV_KEYS[2]!) });
    const prover = createWalletClient({ chain: hardhat, transport, account: privateKeyToAccount(DEV_KEYS[1]!) });
    const coordinator = record.contracts.InferenceCoordinator.address;
    const model = await builtExample("digits-mlp");
    const input = decodeInputs(model.manifest, (await exampleProof("digits-mlp")).instances);
    const fee = parseEther("0.001");
    const cli = (...a: string[]) => zkinfer(["request", ...a], { ...env, ZKINFER_PRIVATE_KEY: DEV_KEYS[2]! });
    const me = requester.account.address;

    // An open request: forged terms are refused on-chain; the CLI cancels it with the logged ones.
    const open = await requestInference(requester, c, { coordinator, modelId, input, fee });
    for (const forged of [
      { ...open.terms, maxPrice: open.terms.maxPrice + 1n },
      { ...open.terms, deadline: open.terms.deadline + 1n },
      { ...open.terms, requester: prover.account.address },
    ])
      expect(
        await revertOf(settleRequest(requester, c, { coordinator, requestId: open.requestId, action: "cancel", terms: forged })),
      ).to.deep.equal({ errorName: "CoordinatorTermsMismatch", args: [open.requestId, 1] });
    const cancelled = await cli("cancel", `0x${open.requestId.toString(16)}`);
    expect(cancelled.status, cancelled.stderr).to.equal(0);
    expect(cancelled.stdout).to.match(
      new RegExp(`^cancelled request ${open.requestId} \\(tx 0x[0-9a-f]{64}\\): 0\\.001 ETH credited to ${me}$`, "m"),
    );
    expect(await requestState(c, coordinator, open.requestId)).to.include({ status: "cancelled" });

    // A locked request: refunded after its deadline, with its lock passed back (a forged one is refused).
    const locked = await requestInference(requester, c, { coordinator, modelId, input, fee, deadline: await deadlineIn(c, 120) });
    const { claims } = await lockRequests(prover, c, coordinator, [locked]);
    const held = claims[0]!.held;
    expect(held.locker).to.equal(prover.account.address);
    const shown = await cli("status", String(locked.requestId));
    expect(shown.status, shown.stderr).to.equal(0);
    expect(shown.stdout).to.match(/^status\s+locked$/m);
    expect(shown.stdout).to.match(
      new RegExp(`^locked by\\s+${prover.account.address} in block ${held.lockedAt} at 0\\.001 ETH$`, "m"),
    );
    const unknown = await cli("status", "12345");
    expect(unknown.status).to.equal(1);
    expect(unknown.stderr).to.match(/^error: request 12345 does not exist on the coordinator 0x[0-9a-fA-F]{40}\nhint: /);
    const early = await cli("refund", String(locked.requestId));
    expect(early.status).to.equal(1);
    expect(early.stderr).to.match(
      new RegExp(`^error: request ${locked.requestId} is locked until its deadline .+; it can be refunded after that\nhint: `),
    );
    const tester = createTestClient({ chain: hardhat, mode: "hardhat", transport });
    await tester.increaseTime({ seconds: 300 });
    await tester.mine({ blocks: 1 });
    expect(
      await revertOf(
        c.simulateContract({
          account: requester.account,
          address: coordinator,
          abi: inferenceCoordinatorAbi,
          functionName: "refund",
          args: [locked.requestId, locked.terms, { ...held, lockedAt: held.lockedAt + 1n }],
        }),
      ),
    ).to.deep.equal({ errorName: "CoordinatorTermsMismatch", args: [locked.requestId, 4] });
    const refunded = await cli("refund", String(locked.requestId), "--from-block", String(locked.blockNumber));
    expect(refunded.status, refunded.stderr).to.equal(0);
    expect(refunded.stdout).to.match(
      new RegExp(`^refunded request ${locked.requestId} \\(tx 0x[0-9a-f]{64}\\): 0\\.001 ETH credited to ${me}$`, "m"),
    );
    expect(await requestState(c, coordinator, locked.requestId)).to.include({ status: "refunded" });
    const again = await cli("refund", String(locked.requestId));
    expect(again.status).to.equal(1);
    expect(again.stderr).to.match(new RegExp(`^error: request ${locked.requestId} was already refunded\nhint: `));
    expect(again.stderr).to.not.match(/\n\s+at /);
  });

  it("`deploy --network sepolia` without its configuration variables names the missing one and sends nothing", async () => {
    const r = await zkinfer(["deploy", "--network", "sepolia"], { ...env, SEPOLIA_RPC_URL: "", DEPLOYER_PRIVATE_KEY: "" });
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/^error: network .sepolia. has (no|an empty) RPC URL/m);
    expect(r.stderr).to.match(/^hint: .*SEPOLIA_RPC_URL/m);
    expect(r.stderr).to.not.match(/\n\s+at /);
  });
});

function flipByte(hex: Hex, index: number): Hex {
  const bytes = Buffer.from(hex.slice(2), "hex");
  bytes[index] = bytes[index]! ^ 0xff;
  return `0x${bytes.toString("hex")}`;
}
