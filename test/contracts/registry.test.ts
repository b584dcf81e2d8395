import { expect } from "chai";
import { network } from "hardhat";
import { revertOf } from "../helpers/revert.js";
import { encodePacked, getAddress, keccak256, parseEventLogs, zeroAddress, type Abi, type Address, type Hex } from "viem";
import { readStoredVka, VERSION_VKA_OFFSET } from "../../prover/src/chain/suite-verifier.js";
import { ArtifactError } from "../../prover/src/errors.js";

/**
 * Behaviour of ModelRegistry seen from a client: viem against Hardhat's in-process EVM. The Solidity tests in
 * contracts/test cover the logic exhaustively; these check what an off-chain caller observes — error names and
 * arguments decoded from revert data, and events in receipts.
 */

const MOCK_BEHAVIOUR_DIGEST = 0;
const MOCK_BEHAVIOUR_RETURN_FALSE = 1;

function hashOf(tag: string): Hex {
  return keccak256(new TextEncoder().encode(tag));
}

async function deployFixture() {
  const { viem } = await network.create();
  const publicClient = await viem.getPublicClient();
  const [alice, bob, carol] = await viem.getWalletClients();
  if (alice === undefined || bob === undefined || carol === undefined) throw new Error("need three accounts");
  // viem decodes addresses from events and errors in checksum form; compare against the same form.
  const addr = {
    alice: getAddress(alice.account.address),
    bob: getAddress(bob.account.address),
    carol: getAddress(carol.account.address),
  };

  // TEST-ONLY mock as the suite verifier: the registry's bookkeeping is under test here, not proofs.
  const verifier = await viem.deployContract("MockHalo2Verifier", [MOCK_BEHAVIOUR_DIGEST]);
  const otherVerifier = await viem.deployContract("MockHalo2Verifier", [MOCK_BEHAVIOUR_RETURN_FALSE]);

  async function codeHashOf(address: Address): Promise<Hex> {
    const code = await publicClient.getCode({ address });
    if (code === undefined) throw new Error(`no code at ${address}`);
    return keccak256(code);
  }
  const registry = await viem.deployContract("ModelRegistry", [
    addr.carol,
    verifier.address,
    await codeHashOf(verifier.address),
    0n,
    3600n,
  ]);
  /** A 24-word VKA-shaped array (dev-SRS G2 words), distinct per tag. */
  const vka = (tag = "v1"): Hex[] => Array.from({ length: 24 }, (_, i) => hashOf(`${tag}-${i}`));

  async function versionParams() {
    return {
      modelHash: hashOf("network.onnx"),
      settingsHash: hashOf("settings.json"),
      circuitHash: hashOf("network.compiled"),
      srsHash: hashOf("kzg.srs"),
      vkHash: hashOf("vk.key"),
      inputScale: 7,
      outputScale: 7,
      layout: { instanceCount: 74, inputOffset: 0, inputCount: 64, outputOffset: 64, outputCount: 10 },
      floatMetricBps: 9_722,
      circuitMetricBps: 9_694,
      metadataURI: "file://.zkinfer/digits-mlp/manifest.json",
    };
  }

  async function registerAs(wallet: NonNullable<typeof alice>, name: string): Promise<Hex> {
    const { result, request } = await publicClient.simulateContract({
      address: registry.address,
      abi: registry.abi,
      functionName: "registerModel",
      args: [name],
      account: wallet.account,
    });
    const hash = await wallet.writeContract(request);
    await publicClient.waitForTransactionReceipt({ hash });
    return result;
  }

  return {
    viem,
    publicClient,
    alice,
    bob,
    carol,
    addr,
    registry,
    verifier,
    otherVerifier,
    codeHashOf,
    versionParams,
    vka,
    registerAs,
  };
}

function eventsIn(abi: Abi, logs: Parameters<typeof parseEventLogs>[0]["logs"]) {
  return parseEventLogs({ abi, logs }).map((log) => ({ eventName: log.eventName, args: log.args as Record<string, unknown> }));
}

describe("ModelRegistry (viem)", () => {
  it("registers a model, emits ModelRegistered and derives the id from owner and name", async () => {
    const { addr, publicClient, alice, registry } = await deployFixture();
    const hash = await registry.write.registerModel(["digits-mlp"], { account: alice.account });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });

    const expectedId = await registry.read.computeModelId([addr.alice, "digits-mlp"]);
    expect(eventsIn(registry.abi, receipt.logs)).to.deep.equal([
      {
        eventName: "ModelRegistered",
        args: { modelId: expectedId, owner: addr.alice, name: "digits-mlp" },
      },
    ]);
    const info = await registry.read.getModel([expectedId]);
    expect(info.owner).to.equal(addr.alice);
    expect(info.name).to.equal("digits-mlp");
    expect(info.versionCount).to.equal(0);
  });

  it("adds version 1 with every manifest field, keeps the description in the VKA store and emits the URI", async () => {
    const { publicClient, alice, registry, versionParams, vka, registerAs } = await deployFixture();
    const modelId = await registerAs(alice, "digits-mlp");
    const params = await versionParams();
    const words = vka();
    const digest = keccak256(`0x${words.map((w) => w.slice(2)).join("")}`);

    const hash = await registry.write.addVersion([modelId, params, words, [], false], { account: alice.account });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    const stored = await registry.read.getVersion([modelId, 1]);
    const block = await publicClient.getBlock({ blockNumber: receipt.blockNumber });
    expect(eventsIn(registry.abi, receipt.logs)).to.deep.equal([
      {
        eventName: "VersionRegistered",
        args: {
          modelId,
          version: 1,
          vkaDigest: digest,
          suiteVerifierId: 1,
          vka: stored.vka,
          ceremonySrs: false,
          vkHash: params.vkHash,
          latestAt: block.timestamp,
          metadataURI: params.metadataURI,
        },
      },
    ]);
    expect(stored).to.deep.include({
      modelHash: params.modelHash,
      settingsHash: params.settingsHash,
      circuitHash: params.circuitHash,
      srsHash: params.srsHash,
      vkHash: params.vkHash,
      vkaDigest: digest,
      vkaWords: 24,
      suiteVerifierId: 1,
      ceremonySrs: false,
      inputScale: 7,
      outputScale: 7,
      floatMetricBps: 9_722,
      circuitMetricBps: 9_694,
      registeredAt: block.timestamp,
      status: 1,
    });
    expect(stored).to.not.have.property("metadataURI");
    // The store's code: STOP, the description (five hashes, two uint32 metrics), then the VKA's words.
    const description = encodePacked(
      ["bytes32", "bytes32", "bytes32", "bytes32", "bytes32", "uint32", "uint32"],
      [params.modelHash, params.settingsHash, params.circuitHash, params.srsHash, params.vkHash, 9_722, 9_694],
    );
    expect(await publicClient.getCode({ address: stored.vka })).to.equal(
      `0x00${description.slice(2)}${words.map((w) => w.slice(2)).join("")}`,
    );
    expect(await readStoredVka(publicClient, stored.vka, VERSION_VKA_OFFSET)).to.deep.equal(words);
    // Read as a bare (variant) store, the description and the VKA do not make whole words.
    expect(await readStoredVka(publicClient, stored.vka).catch((e: unknown) => e)).to.be.instanceOf(ArtifactError);
    const pastTheEnd = await readStoredVka(publicClient, stored.vka, VERSION_VKA_OFFSET + 32 * words.length).catch(
      (e: unknown) => e,
    );
    expect(pastTheEnd).to.be.instanceOf(ArtifactError);
    expect(stored.layout).to.deep.equal(params.layout);
    expect(await registry.read.latestVersion([modelId])).to.equal(1);
    expect(await registry.read.latestActiveVersion([modelId])).to.equal(1);
  });

  it("rejects a version from anyone but the owner with RegistryNotModelOwner(modelId, caller, owner)", async () => {
    const { addr, alice, bob, registry, versionParams, vka, registerAs } = await deployFixture();
    const modelId = await registerAs(alice, "digits-mlp");
    const failure = await revertOf(
      registry.write.addVersion([modelId, await versionParams(), vka(), [], false], { account: bob.account }),
    );
    expect(failure.errorName).to.equal("RegistryNotModelOwner");
    expect(failure.args).to.deep.equal([modelId, addr.bob, addr.alice]);
    expect(await registry.read.latestVersion([modelId])).to.equal(0);
  });

  it("refuses the same VKA twice for a model with RegistryVersionDuplicate, unless allowDuplicate", async () => {
    const { publicClient, alice, registry, versionParams, vka, registerAs } = await deployFixture();
    const modelId = await registerAs(alice, "digits-mlp");
    const words = vka();
    await publicClient.waitForTransactionReceipt({
      hash: await registry.write.addVersion([modelId, await versionParams(), words, [], false], { account: alice.account }),
    });
    const failure = await revertOf(
      registry.write.addVersion([modelId, await versionParams(), words, [], false], { account: alice.account }),
    );
    expect(failure.errorName).to.equal("RegistryVersionDuplicate");
    expect(failure.args).to.deep.equal([modelId, keccak256(`0x${words.map((w) => w.slice(2)).join("")}`), 1]);
    await publicClient.waitForTransactionReceipt({
      hash: await registry.write.addVersion([modelId, await versionParams(), words, [], true], { account: alice.account }),
    });
    expect(await registry.read.latestVersion([modelId])).to.equal(2);
  });

  it("lets only the suite admin propose a suite verifier, behind the activation delay", async () => {
    const { addr, publicClient, alice, carol, registry, otherVerifier, codeHashOf } = await deployFixture();
    const notAdmin = await revertOf(
      registry.write.proposeSuiteVerifier([otherVerifier.address, await codeHashOf(otherVerifier.address)], {
        account: alice.account,
      }),
    );
    expect(notAdmin).to.deep.equal({ errorName: "OwnableUnauthorizedAccount", args: [getAddress(alice.account.address)] });
    await publicClient.waitForTransactionReceipt({
      hash: await registry.write.proposeSuiteVerifier([otherVerifier.address, await codeHashOf(otherVerifier.address)], {
        account: carol.account,
      }),
    });
    expect(await registry.read.suiteVerifierCount()).to.equal(2);
    expect(await registry.read.currentSuiteVerifier()).to.equal(1);
    void addr;
  });

  it("rejects overlapping input and output ranges with RegistryLayoutRangesOverlap", async () => {
    const { alice, registry, versionParams, vka, registerAs } = await deployFixture();
    const deployFixtureVka = async () => vka();
    const modelId = await registerAs(alice, "digits-mlp");
    const layout = { instanceCount: 74, inputOffset: 0, inputCount: 64, outputOffset: 60, outputCount: 10 };
    const failure = await revertOf(
      registry.write.addVersion([modelId, { ...(await versionParams()), layout }, await deployFixtureVka(), [], false], {
        account: alice.account,
      }),
    );
    expect(failure.errorName).to.equal("RegistryLayoutRangesOverlap");
    expect(failure.args).to.deep.equal([0, 64, 60, 10]);
  });

  it("lets only the owner deprecate and reactivate, with events and named errors", async () => {
    const { addr, publicClient, alice, bob, registry, versionParams, vka, registerAs } = await deployFixture();
    const modelId = await registerAs(alice, "digits-mlp");
    await publicClient.waitForTransactionReceipt({
      hash: await registry.write.addVersion([modelId, await versionParams(), vka(), [], false], { account: alice.account }),
    });

    const notOwner = await revertOf(registry.write.deprecateVersion([modelId, 1], { account: bob.account }));
    expect(notOwner.errorName).to.equal("RegistryNotModelOwner");
    expect(notOwner.args).to.deep.equal([modelId, addr.bob, addr.alice]);

    const deprecated = await publicClient.waitForTransactionReceipt({
      hash: await registry.write.deprecateVersion([modelId, 1], { account: alice.account }),
    });
    expect(eventsIn(registry.abi, deprecated.logs)).to.deep.equal([
      { eventName: "VersionDeprecated", args: { modelId, version: 1 } },
    ]);
    expect((await registry.read.getVersion([modelId, 1])).status).to.equal(2);
    expect(await registry.read.latestActiveVersion([modelId])).to.equal(0);

    const again = await revertOf(registry.write.deprecateVersion([modelId, 1], { account: alice.account }));
    expect(again).to.deep.equal({ errorName: "RegistryVersionStatusInvalid", args: [modelId, 1, 2] });

    const unknown = await revertOf(registry.write.deprecateVersion([modelId, 2], { account: alice.account }));
    expect(unknown).to.deep.equal({ errorName: "RegistryVersionUnknown", args: [modelId, 2, 1] });

    const reactivated = await publicClient.waitForTransactionReceipt({
      hash: await registry.write.reactivateVersion([modelId, 1], { account: alice.account }),
    });
    expect(eventsIn(registry.abi, reactivated.logs)).to.deep.equal([
      { eventName: "VersionReactivated", args: { modelId, version: 1 } },
    ]);
    expect(await registry.read.latestActiveVersion([modelId])).to.equal(1);
  });

  it("transfers model ownership in two steps", async () => {
    const { addr, publicClient, alice, bob, carol, registry, versionParams, vka, registerAs } = await deployFixture();
    const modelId = await registerAs(alice, "digits-mlp");

    const started = await publicClient.waitForTransactionReceipt({
      hash: await registry.write.transferModelOwnership([modelId, addr.bob], { account: alice.account }),
    });
    expect(eventsIn(registry.abi, started.logs)).to.deep.equal([
      {
        eventName: "ModelOwnershipTransferStarted",
        args: { modelId, previousOwner: addr.alice, newOwner: addr.bob },
      },
    ]);
    expect((await registry.read.getModel([modelId])).owner).to.equal(addr.alice);

    const stranger = await revertOf(registry.write.acceptModelOwnership([modelId], { account: carol.account }));
    expect(stranger).to.deep.equal({
      errorName: "RegistryNotPendingModelOwner",
      args: [modelId, addr.carol, addr.bob],
    });

    const accepted = await publicClient.waitForTransactionReceipt({
      hash: await registry.write.acceptModelOwnership([modelId], { account: bob.account }),
    });
    expect(eventsIn(registry.abi, accepted.logs)).to.deep.equal([
      {
        eventName: "ModelOwnershipTransferred",
        args: { modelId, previousOwner: addr.alice, newOwner: addr.bob },
      },
    ]);
    const info = await registry.read.getModel([modelId]);
    expect(info.owner).to.equal(addr.bob);
    expect(info.pendingOwner).to.equal(zeroAddress);

    const formerOwner = await revertOf(
      registry.write.addVersion([modelId, await versionParams(), vka(), [], false], { account: alice.account }),
    );
    expect(formerOwner).to.deep.equal({
      errorName: "RegistryNotModelOwner",
      args: [modelId, addr.alice, addr.bob],
    });
  });

  it("reports unknown models by name from the read functions", async () => {
    const { registry } = await deployFixture();
    const unknownId = hashOf("no such model");
    const failure = await revertOf(registry.read.getModel([unknownId]));
    expect(failure).to.deep.equal({ errorName: "RegistryModelUnknown", args: [unknownId] });
    expect(await registry.read.modelExists([unknownId])).to.equal(false);
    const target = await registry.read.verificationTarget([unknownId, 1]);
    expect(target.modelExists).to.equal(false);
    expect(target.status).to.equal(0);
  });
});
