import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createPublicClient, getAddress, http, keccak256, type Address, type Hex } from "viem";
import { ConfigError, ZkinferError } from "../prover/src/errors.js";
import { writeDeployment, type Deployment } from "../prover/src/chain/deployments.js";
import { SOLC_VERSION } from "../prover/src/chain/solc.js";
import { projectRoot } from "../prover/src/util/paths.js";
import { EzklEngine } from "../prover/src/engine/engine.js";
import { ensureSuiteVerifierSource, pinnedEzklVersion, suiteVerifierArtifact } from "../prover/src/models/suite-verifier.js";
import { LOCAL_CHAIN_ID, TESTNETS } from "./networks.js";

/**
 * Deploying the zkinfer suite with Hardhat Ignition (the modules in deploy/modules — the same ones
 * the test fixtures deploy) and recording the result in deploy/deployments/<chainId>.json, which the
 * CLI reads. Hardhat is loaded only here, and only when a deployment runs.
 */

export class DeploymentError extends ZkinferError {
  readonly code = "DEPLOYMENT";
}

export interface DeployOptions {
  /**
   * A Hardhat network from hardhat.config.ts (`sepolia`, `baseSepolia`, `arbitrumSepolia`,
   * `opSepolia`, `localhost`): its URL and key come from Hardhat configuration variables.
   * Without it, `rpcUrl` + `privateKey` are used (through the `localhost` entry).
   */
  network?: string;
  rpcUrl?: string;
  privateKey?: Hex;
  /** The coordinator's owner and guardian (default: the deployer). */
  owner?: Address;
  guardian?: Address;
  /**
   * Seconds before a new version can be a model's "latest" (version 0 requests, the SDK's default pin).
   * Default: one day; 0 on the local dev chain (31337), where the demo registers and requests at once.
   */
  latestDelay?: bigint;
  /** Seconds before a proposed suite verifier is used for new versions (default: seven days). */
  verifierActivationDelay?: bigint;
  /** Verify the sources on the network's explorer afterwards (needs ETHERSCAN_API_KEY). */
  verify?: boolean;
  /** Where to write <chainId>.json (default: deploymentsDir()). */
  outDir?: string;
  /** Show Ignition's progress display. */
  displayUi?: boolean;
}

export interface DeployResult {
  deployment: Deployment;
  file: string;
  /** True when Ignition found everything already deployed (a re-run on the same chain). */
  reused: boolean;
}

interface TargetOptions {
  network?: string;
  rpcUrl?: string;
  privateKey?: Hex;
}

/**
 * A Hardhat runtime connected to the target chain, with the deployment id Ignition should use there.
 * A local chain (id 31337) is thrown away with its node, so its journal would only confuse the next
 * run: it gets a one-off deployment id whose journal close() removes.
 */
async function openIgnition(opts: TargetOptions, idPrefix: string) {
  const [{ createHardhatRuntimeEnvironment }, { default: userConfig }, ignitionCore] = await Promise.all([
    import("hardhat/hre"),
    import("../hardhat.config.js"),
    import("@nomicfoundation/ignition-core"),
  ]);
  const networkName = opts.network ?? "localhost";
  if (opts.network && !(opts.network in TESTNETS) && opts.network !== "localhost") {
    throw new ConfigError(`unknown network '${opts.network}'`, {
      hint: `use one of: localhost, ${Object.keys(TESTNETS).join(", ")} (or ZKINFER_RPC_URL + ZKINFER_PRIVATE_KEY without --network)`,
    });
  }
  const hre = await createHardhatRuntimeEnvironment(userConfig, { network: networkName }, projectRoot);
  // Ignition deploys from Hardhat's artifacts: make sure they exist and are current (a fresh clone
  // has none, nor the generated suite verifier's source). A no-op when nothing changed.
  await ensureSuiteVerifierSource(() => new EzklEngine());
  await hre.tasks.getTask("build").run({ quiet: true, noTests: true });
  let override: { url: string; accounts: Hex[] } | undefined;
  if (!opts.network) {
    if (!opts.rpcUrl || !opts.privateKey)
      throw new ConfigError("no RPC URL and key for the deployment", {
        hint: "set ZKINFER_RPC_URL and ZKINFER_PRIVATE_KEY, or pass --network <name> to use Hardhat's configured networks",
      });
    override = { url: opts.rpcUrl, accounts: [opts.privateKey] };
  }

  // The chain id decides the deployment id before Ignition starts.
  const url = override?.url ?? (await resolveNetworkUrl(hre, networkName));
  let chainId: number;
  try {
    chainId = await createPublicClient({ transport: http(url, { retryCount: 1, timeout: 20_000 }) }).getChainId();
  } catch (e) {
    throw new DeploymentError(`cannot reach the RPC node for '${networkName}' at ${redact(url)}`, {
      hint: "check the URL (for testnets: the <NETWORK>_RPC_URL configuration variable) and that the node is up",
      cause: e,
    });
  }
  const local = chainId === LOCAL_CHAIN_ID;
  const deploymentId = local ? `local-${idPrefix}-${process.pid}-${Date.now()}` : `${idPrefix}-chain-${chainId}`;
  const journalDir = join(hre.config.paths.ignition, "deployments", deploymentId);
  const resumed = !local && existsSync(join(journalDir, "journal.jsonl"));
  const connection = await hre.network.connect(override ? { network: networkName, override } : { network: networkName });
  const [wallet] = await connection.viem.getWalletClients();
  if (!wallet) {
    await connection.close();
    throw new ConfigError(`network '${networkName}' has no account to deploy from`, { hint: "set DEPLOYER_PRIVATE_KEY" });
  }
  const publicClient = await connection.viem.getPublicClient();

  /** The transaction hash and gas of each contract the deployment created, by address. */
  const deployTxs = async () => {
    const txs = new Map<string, { txHash: string; gasUsed: string }>();
    for (const tx of await ignitionCore.listTransactions(journalDir, {
      loadArtifact: (name: string) => hre.artifacts.readArtifact(name),
    })) {
      if (tx.address && tx.txHash) {
        const receipt = await publicClient.getTransactionReceipt({ hash: tx.txHash as Hex });
        txs.set(getAddress(tx.address), { txHash: tx.txHash, gasUsed: receipt.gasUsed.toString() });
      }
    }
    return txs;
  };
  return {
    hre,
    connection,
    networkName,
    chainId,
    local,
    deploymentId,
    journalDir,
    resumed,
    deployer: getAddress(wallet.account.address),
    publicClient,
    deployTxs,
    close: async () => {
      await connection.close();
      if (local) rmSync(journalDir, { recursive: true, force: true });
    },
  };
}

/**
 * Deploy (or resume deploying) the suite with Ignition and write the deployment record.
 *
 * On a public chain, Ignition's journal (deploy/deployments/zkinfer-chain-<id>/) makes a re-run
 * resume where it stopped, and never deploys twice.
 */
export async function deployZkinfer(opts: DeployOptions = {}): Promise<DeployResult> {
  const ig = await openIgnition(opts, "zkinfer");
  try {
    // Imported once the contracts are compiled: the module reads the suite verifier's code hash.
    const {
      default: ZkinferSuite,
      DEFAULT_LATEST_DELAY,
      DEFAULT_VERIFIER_ACTIVATION_DELAY,
    } = await import("./modules/ZkinferSuite.js");
    const latestDelay = opts.latestDelay ?? (ig.local ? 0n : DEFAULT_LATEST_DELAY);
    const verifierActivationDelay = opts.verifierActivationDelay ?? DEFAULT_VERIFIER_ACTIVATION_DELAY;
    const owner = opts.owner ?? ig.deployer;
    const guardian = opts.guardian ?? ig.deployer;
    const { registry, suiteVerifier, verifierRoute, coordinator } = await ig.connection.ignition.deploy(ZkinferSuite, {
      parameters: { ZkinferSuite: { owner, guardian }, Registry: { admin: owner, latestDelay, verifierActivationDelay } },
      deploymentId: ig.deploymentId,
      displayUi: opts.displayUi ?? false,
    });
    const txs = await ig.deployTxs();
    const record = (address: Address) => ({ address: getAddress(address), ...txs.get(getAddress(address)) });
    const deployment: Deployment = {
      chainId: ig.chainId,
      network: ig.networkName,
      deployedAt: new Date().toISOString(),
      deployer: ig.deployer,
      owner: getAddress(await coordinator.read.owner()),
      guardian: getAddress(await coordinator.read.guardian()),
      ignitionDeploymentId: ig.deploymentId,
      solc: SOLC_VERSION,
      ...(ig.networkName in TESTNETS ? { explorer: TESTNETS[ig.networkName as keyof typeof TESTNETS].explorer } : {}),
      suiteVerifier: {
        id: 1,
        codeHash: (await ig.publicClient.getCode({ address: suiteVerifier.address }).then((c) => keccak256(c ?? "0x"))) as Hex,
        ezkl: pinnedEzklVersion(),
      },
      registry: { latestDelay: Number(latestDelay), verifierActivationDelay: Number(verifierActivationDelay) },
      contracts: {
        Halo2VerifierReusable: record(suiteVerifier.address),
        ModelRegistry: record(registry.address),
        InferenceVerifier: record(verifierRoute.address),
        InferenceCoordinator: record(coordinator.address),
      },
    };
    const expectedCodeHash = suiteVerifierArtifact().codeHash;
    if (deployment.suiteVerifier.codeHash !== expectedCodeHash) {
      throw new DeploymentError(
        `the suite verifier at ${suiteVerifier.address} has code hash ${deployment.suiteVerifier.codeHash}, not the compiled ${expectedCodeHash}`,
        { hint: "regenerate and recompile (npm run compile), then deploy anew" },
      );
    }
    if (deployment.owner !== getAddress(owner) || deployment.guardian !== getAddress(guardian)) {
      throw new DeploymentError(
        `chain ${ig.chainId} already has a zkinfer deployment (journal ${ig.journalDir}) with owner ${deployment.owner} and guardian ${deployment.guardian}`,
        { hint: "deploy with the same --owner/--guardian, or move the journal directory away to deploy anew" },
      );
    }
    const file = writeDeployment(deployment, opts.outDir);
    if (opts.verify) {
      if (ig.local) throw new ConfigError("a local chain has no explorer to verify sources on", { hint: "drop --verify" });
      await ig.hre.tasks.getTask(["ignition", "verify"]).run({ deploymentId: ig.deploymentId });
    }
    return { deployment, file, reused: ig.resumed };
  } finally {
    await ig.close();
  }
}

/** The example dApp's settings (IDigitBounty.Config). */
export interface DigitBountyConfig {
  modelId: Hex;
  /** The pinned version (never 0). */
  modelVersion: number;
  prize: bigint;
  callbackGasLimit: number;
  requestTimeout: bigint;
}

/** Deploy the example dApp DigitBounty with its Ignition module (deploy/modules/DigitBounty.ts). */
export async function deployDigitBounty(
  opts: TargetOptions & { coordinator: Address; owner?: Address; config: DigitBountyConfig; displayUi?: boolean },
): Promise<{ address: Address; txHash?: string; gasUsed?: string }> {
  const { default: DigitBountyModule } = await import("./modules/DigitBounty.js");
  const ig = await openIgnition(opts, "digit-bounty");
  try {
    const { bounty } = await ig.connection.ignition.deploy(DigitBountyModule, {
      parameters: {
        DigitBounty: {
          coordinator: opts.coordinator,
          owner: opts.owner ?? ig.deployer,
          config: { ...opts.config },
        },
      },
      deploymentId: ig.deploymentId,
      displayUi: opts.displayUi ?? false,
    });
    const address = getAddress(bounty.address);
    return { address, ...(await ig.deployTxs()).get(address) };
  } finally {
    await ig.close();
  }
}

async function resolveNetworkUrl(hre: { config: { networks: Record<string, unknown> } }, name: string): Promise<string> {
  const net = hre.config.networks[name] as { type: string; url?: { get(): Promise<string> } } | undefined;
  if (!net || net.type !== "http" || !net.url)
    throw new ConfigError(`network '${name}' is not an HTTP network in hardhat.config.ts`, { hint: "pick another --network" });
  const hint = `set its configuration variable, e.g. export ${TESTNETS[name as keyof typeof TESTNETS]?.rpcUrlVariable ?? "<NETWORK>_RPC_URL"}=https://…`;
  let url: string;
  try {
    url = await net.url.get();
  } catch (e) {
    throw new ConfigError(`network '${name}' has no RPC URL: ${(e as Error).message.split("\n")[0]}`, { hint, cause: e });
  }
  if (!url.trim()) throw new ConfigError(`network '${name}' has an empty RPC URL`, { hint });
  return url;
}

/** An RPC URL without its path and query, where providers put API keys. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname.length > 1 || u.search ? `${u.protocol}//${u.host}/…` : url;
  } catch {
    return "(invalid URL)";
  }
}
