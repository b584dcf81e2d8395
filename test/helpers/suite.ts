import { network } from "hardhat";
import ZkinferSuite from "../../deploy/modules/ZkinferSuite.js";
import type { Address, Hex } from "viem";
import { readModelVka, versionParams } from "../../prover/src/chain/register.js";
import { builtExample, type ExampleModel } from "./models.js";

/**
 * The zkinfer suite on a fresh in-process Hardhat EVM — suite verifier, registry, route, coordinator —
 * with a helper that registers an example model's VKA as a version. Shared by every contract test that
 * uses real proofs, deployed by the Ignition module `zkinfer deploy` uses. Wallet 0 owns everything; wallet 1 is the coordinator's guardian.
 */
export async function deploySuite() {
  const connection = await network.create();
  const { viem, networkHelpers, ignition } = connection;
  const publicClient = await viem.getPublicClient();
  const wallets = await viem.getWalletClients();
  const [admin, guardian] = [wallets[0]!, wallets[1]!];
  // The same Ignition module `zkinfer deploy` uses.
  const {
    registry,
    suiteVerifier,
    verifierRoute: route,
    coordinator,
  } = await ignition.deploy(ZkinferSuite, {
    parameters: { ZkinferSuite: { owner: admin.account.address, guardian: guardian.account.address } },
  });

  /** Register `name`'s VKA as version 1 of a model called `registerAs` (the suite verifier checks it). */
  async function registerExample(
    name: ExampleModel,
    registerAs: string = name,
  ): Promise<{ modelId: Hex; version: number; verifier: Address; vka: Address; vkaDigest: Hex; addVersionGas: bigint }> {
    const model = await builtExample(name);
    const vka = await readModelVka(model);
    await publicClient.waitForTransactionReceipt({ hash: await registry.write.registerModel([registerAs]) });
    const modelId = await registry.read.computeModelId([admin.account.address, registerAs]);
    const receipt = await publicClient.waitForTransactionReceipt({
      hash: await registry.write.addVersion([modelId, versionParams(model.manifest, ""), vka.words, [], false]),
    });
    const v = await registry.read.getVersion([modelId, 1]);
    return {
      modelId,
      version: 1,
      verifier: suiteVerifier.address,
      vka: v.vka,
      vkaDigest: v.vkaDigest,
      addVersionGas: receipt.gasUsed,
    };
  }

  return {
    connection,
    viem,
    networkHelpers,
    publicClient,
    wallets,
    admin,
    guardian,
    registry,
    suiteVerifier,
    route,
    coordinator,
    registerExample,
  };
}
