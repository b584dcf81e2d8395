import type { Command } from "commander";
import { isAddress, type Address } from "viem";
import { loadChainConfig } from "../../chain/config.js";
import { UserInputError } from "../../errors.js";
import { requireCheckout } from "../../util/paths.js";
import type { CliContext } from "../context.js";
import { table, toJson } from "../format.js";

export function registerDeploy(program: Command, ctx: CliContext): void {
  program
    .command("deploy")
    .summary("deploy the suite with Hardhat Ignition (local chain or a testnet) and record the addresses")
    .description(
      "deploy the suite (ModelRegistry, InferenceVerifier route, InferenceCoordinator) with Hardhat Ignition and " +
        "write deploy/deployments/<chainId>.json, which the other commands read. Without --network: the chain and " +
        "key of ZKINFER_RPC_URL / ZKINFER_PRIVATE_KEY (or zkinfer.config.json). With --network: a network from " +
        "hardhat.config.ts, whose URL and key are Hardhat configuration variables (e.g. SEPOLIA_RPC_URL, DEPLOYER_PRIVATE_KEY). " +
        "A re-run on a public chain resumes from Ignition's journal and deploys nothing twice.",
    )
    .option("--network <name>", "localhost | sepolia | baseSepolia | arbitrumSepolia | opSepolia")
    .option("--owner <address>", "the coordinator's owner and the registry's suite admin (default: the deployer)")
    .option("--guardian <address>", "who may pause requests and fulfilments (default: the deployer)")
    .option(
      "--latest-delay <seconds>",
      "seconds before a new version can be a model's latest (default: 86400; 0 on the local dev chain)",
    )
    .option("--verify", "verify the sources on the network's explorer afterwards (needs ETHERSCAN_API_KEY)")
    .option("--json", "print the deployment record as JSON")
    .action(
      async (opts: {
        network?: string;
        owner?: string;
        guardian?: string;
        latestDelay?: string;
        verify?: boolean;
        json?: boolean;
      }) => {
        const addr = (flag: string, v: string | undefined): Address | undefined => {
          if (v === undefined) return undefined;
          if (!isAddress(v))
            throw new UserInputError(`${flag} is not an address: ${v}`, { hint: "give a 0x-prefixed 20-byte address" });
          return v;
        };
        const owner = addr("--owner", opts.owner);
        const guardian = addr("--guardian", opts.guardian);
        if (opts.latestDelay !== undefined && !/^\d+$/.test(opts.latestDelay))
          throw new UserInputError(`--latest-delay must be a whole number of seconds, not '${opts.latestDelay}'`);
        const config = opts.network ? undefined : loadChainConfig();
        // Loaded only when `deploy` runs: it brings Hardhat with it (a checkout's, not the installed package's).
        requireCheckout("deploy");
        const { deployZkinfer } = await import("../../../../deploy/index.js");
        ctx.logger.info({ network: opts.network ?? config?.rpcUrl }, "deploying the zkinfer suite with Ignition");
        const {
          deployment: d,
          file,
          reused,
        } = await deployZkinfer({
          ...(opts.network ? { network: opts.network } : { rpcUrl: config!.rpcUrl, privateKey: config!.privateKey }),
          ...(owner ? { owner } : {}),
          ...(guardian ? { guardian } : {}),
          ...(opts.latestDelay !== undefined ? { latestDelay: BigInt(opts.latestDelay) } : {}),
          verify: opts.verify ?? false,
          displayUi: !opts.json,
        });
        if (opts.json) {
          console.log(toJson({ ...d, file }));
          return;
        }
        const c = d.contracts;
        const gas = (r: { gasUsed?: string }) => (r.gasUsed ? `, gas ${r.gasUsed}` : "");
        console.log(
          table([
            [
              "chain",
              `${d.chainId} (${d.network})${reused ? " — resumed from Ignition's journal (nothing deployed twice)" : ""}`,
            ],
            [
              "suite verifier",
              `${c.Halo2VerifierReusable.address}${gas(c.Halo2VerifierReusable)} (EZKL ${d.suiteVerifier.ezkl} reusable verifier, codehash ${d.suiteVerifier.codeHash})`,
            ],
            [
              "ModelRegistry",
              `${c.ModelRegistry.address}${gas(c.ModelRegistry)} (latest delay ${d.registry.latestDelay} s, verifier activation delay ${d.registry.verifierActivationDelay} s)`,
            ],
            ["InferenceVerifier", `${c.InferenceVerifier.address}${gas(c.InferenceVerifier)}`],
            ["InferenceCoordinator", `${c.InferenceCoordinator.address}${gas(c.InferenceCoordinator)}`],
            ["owner / guardian", `${d.owner} / ${d.guardian}`],
            ["deployer", d.deployer],
            ["record", file],
            ...(d.explorer ? [["explorer", `${d.explorer}/address/${c.InferenceCoordinator.address}`] as [string, string]] : []),
          ]),
        );
      },
    );
}
