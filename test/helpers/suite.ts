import { network } from "hardhat";
import ZkinferSuite from "../../deploy/modules/ZkinferSuite.js";
import type { Address, Hex } from "viem";
import { versionParams } from "../../prover/src/chain/register.js";
import { deployModelVerifier } from "./chain.js";
import { builtExample, type ExampleModel } from "./models.js";

/**
 * The zkinfer suite on a fresh in-process Hardhat EVM — registry, route, coordinator — with a helper
 * that deploys an example model's EZKL verifier and registers it. Shared by every contract test that
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
    verifierRoute: route,
    coordinator,
  } = await ignition.deploy(ZkinferSuite, {
    parameters: { ZkinferSuite: { owner: admin.account.address, guardian: guardian.account.address } },
  });

  /** Deploy `name`'s verifier and register it as version 1 of a model called `registerAs`. */
  async function registerExample(
    name: ExampleModel,
    registerAs: string = name,
  ): Promise<{ modelId: Hex; version: number; verifier: Address }> {
    const model = await builtExample(name);
    const verifier = await deployModelVerifier(admin, publicClient, model);
    await publicClient.waitForTransactionReceipt({ hash: await registry.write.registerModel([registerAs]) });
    const modelId = await registry.read.computeModelId([admin.account.address, registerAs]);
    await publicClient.waitForTransactionReceipt({
      hash: await registry.write.addVersion([modelId, versionParams(model.manifest, verifier, "")]),
    });
    return { modelId, version: 1, verifier };
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
    route,
    coordinator,
    registerExample,
  };
}
