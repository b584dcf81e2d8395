import { expect } from "chai";
import { network } from "hardhat";
import { revertOf } from "../helpers/revert.js";
import { getAddress, keccak256, parseEventLogs, zeroAddress, zeroHash, type Abi, type Address, type Hex } from "viem";

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

  const registry = await viem.deployContract("ModelRegistry");
  // TEST-ONLY mock: stands in for an EZKL verifier; only its code and code hash matter to the registry.
  const verifier = await viem.deployContract("MockHalo2Verifier", [MOCK_BEHAVIOUR_DIGEST]);
  const otherVerifier = await viem.deployContract("MockHalo2Verifier", [MOCK_BEHAVIOUR_RETURN_FALSE]);

  async function codeHashOf(address: Address): Promise<Hex> {
    const code = await publicClient.getCode({ address });
    if (code === undefined) throw new Error(`no code at ${address}`);
    return keccak256(code);
  }

  async function versionParams(verifierAddress: Address = verifier.address) {
    return {
      modelHash: hashOf("network.onnx"),
      settingsHash: hashOf("settings.json"),
      circuitHash: hashOf("network.compiled"),
      srsHash: hashOf("kzg.srs"),
      vkHash: hashOf("vk.key"),
      verifier: verifierAddress,
      verifierCodeHash: await codeHashOf(verifierAddress),
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

  it("adds version 1 with every manifest field and emits VersionRegistered", async () => {
    const { publicClient, alice, registry, verifier, versionParams, registerAs } = await deployFixture();
    const modelId = await registerAs(alice, "digits-mlp");
    const params = await versionParams();

    const hash = await registry.write.addVersion([modelId, params], { account: alice.account });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    expect(eventsIn(registry.abi, receipt.logs)).to.deep.equal([
      {
        eventName: "VersionRegistered",
        args: {
          modelId,
          version: 1,
          verifier: getAddress(verifier.address),
          verifierCodeHash: params.verifierCodeHash,
          vkHash: params.vkHash,
        },
      },
    ]);

    const stored = await registry.read.getVersion([modelId, 1]);
    const block = await publicClient.getBlock({ blockNumber: receipt.blockNumber });
    expect(stored).to.deep.include({
      modelHash: params.modelHash,
      settingsHash: params.settingsHash,
      circuitHash: params.circuitHash,
      srsHash: params.srsHash,
      vkHash: params.vkHash,
      verifierCodeHash: params.verifierCodeHash,
      inputScale: 7,
      outputScale: 7,
      floatMetricBps: 9_722,
      circuitMetricBps: 9_694,
      metadataURI: params.metadataURI,
      registeredAt: block.timestamp,
      deprecated: false,
    });
    expect(stored.verifier).to.equal(getAddress(verifier.address));
    expect(stored.layout).to.deep.equal(params.layout);
    expect(await registry.read.latestVersion([modelId])).to.equal(1);
    expect(await registry.read.latestActiveVersion([modelId])).to.equal(1);
  });

  it("rejects a version from anyone but the owner with RegistryNotModelOwner(modelId, caller, owner)", async () => {
    const { addr, alice, bob, registry, versionParams, registerAs } = await deployFixture();
    const modelId = await registerAs(alice, "digits-mlp");
    const failure = await revertOf(registry.write.addVersion([modelId, await versionParams()], { account: bob.account }));
    expect(failure.errorName).to.equal("RegistryNotModelOwner");
    expect(failure.args).to.deep.equal([modelId, addr.bob, addr.alice]);
    expect(await registry.read.latestVersion([modelId])).to.equal(0);
  });

  it("rejects a verifier whose code hash is not the manifest's with RegistryVerifierCodeHashMismatch", async () => {
    const { alice, registry, verifier, otherVerifier, codeHashOf, versionParams, registerAs } = await deployFixture();
    const modelId = await registerAs(alice, "digits-mlp");
    const params = { ...(await versionParams()), verifierCodeHash: await codeHashOf(otherVerifier.address) };
    const failure = await revertOf(registry.write.addVersion([modelId, params], { account: alice.account }));
    expect(failure.errorName).to.equal("RegistryVerifierCodeHashMismatch");
    expect(failure.args).to.deep.equal([
      getAddress(verifier.address),
      await codeHashOf(otherVerifier.address),
      await codeHashOf(verifier.address),
    ]);
  });

  it("rejects a verifier address without code with RegistryVerifierHasNoCode", async () => {
    const { addr, alice, registry, versionParams, registerAs } = await deployFixture();
    const modelId = await registerAs(alice, "digits-mlp");
    const params = { ...(await versionParams()), verifier: addr.carol, verifierCodeHash: zeroHash };
    const failure = await revertOf(registry.write.addVersion([modelId, params], { account: alice.account }));
    expect(failure.errorName).to.equal("RegistryVerifierHasNoCode");
    expect(failure.args).to.deep.equal([addr.carol]);
  });

  it("rejects overlapping input and output ranges with RegistryLayoutRangesOverlap", async () => {
    const { alice, registry, versionParams, registerAs } = await deployFixture();
    const modelId = await registerAs(alice, "digits-mlp");
    const layout = { instanceCount: 74, inputOffset: 0, inputCount: 64, outputOffset: 60, outputCount: 10 };
    const failure = await revertOf(
      registry.write.addVersion([modelId, { ...(await versionParams()), layout }], { account: alice.account }),
    );
    expect(failure.errorName).to.equal("RegistryLayoutRangesOverlap");
    expect(failure.args).to.deep.equal([0, 64, 60, 10]);
  });

  it("lets only the owner deprecate and reactivate, with events and named errors", async () => {
    const { addr, publicClient, alice, bob, registry, versionParams, registerAs } = await deployFixture();
    const modelId = await registerAs(alice, "digits-mlp");
    await publicClient.waitForTransactionReceipt({
      hash: await registry.write.addVersion([modelId, await versionParams()], { account: alice.account }),
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
    expect((await registry.read.getVersion([modelId, 1])).deprecated).to.equal(true);
    expect(await registry.read.latestActiveVersion([modelId])).to.equal(0);

    const again = await revertOf(registry.write.deprecateVersion([modelId, 1], { account: alice.account }));
    expect(again).to.deep.equal({ errorName: "RegistryVersionAlreadyDeprecated", args: [modelId, 1] });

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
    const { addr, publicClient, alice, bob, carol, registry, versionParams, registerAs } = await deployFixture();
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

    const formerOwner = await revertOf(registry.write.addVersion([modelId, await versionParams()], { account: alice.account }));
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
    expect(target.versionExists).to.equal(false);
  });
});
