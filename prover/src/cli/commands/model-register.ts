import type { Command } from "commander";
import { connectChain } from "../../chain/clients.js";
import { loadChainConfig } from "../../chain/config.js";
import { withDeployment } from "../../chain/deployments.js";
import { registerModelVersion } from "../../chain/register.js";
import { ConfigError } from "../../errors.js";
import { consoleProgress } from "../../util/progress.js";
import type { CliContext } from "../context.js";
import { table, toJson } from "../format.js";
import { resolveModelRef } from "../resolve-model.js";

export function registerModelRegister(model: Command, ctx: CliContext): void {
  model
    .command("register")
    .summary("deploy a model's EZKL verifier and register it as a new immutable version")
    .description(
      "deploy a model's EZKL verifier and register it as a new immutable version in the ModelRegistry. " +
        "RPC and key come from ZKINFER_RPC_URL / ZKINFER_PRIVATE_KEY or zkinfer.config.json; the registry from the " +
        "deployment record deploy/deployments/<chainId>.json written by `zkinfer deploy` (or ZKINFER_REGISTRY)",
    )
    .argument("<model>", "built artifact directory, model directory / .onnx (built if needed), or a built model's name")
    .option("--metadata-uri <uri>", "where the manifest and artifacts can be fetched (default: a data: URI naming the build)")
    .option("--json", "print the result as JSON")
    .action(async (ref: string, opts: { metadataUri?: string; json?: boolean }) => {
      const config = await withDeployment(loadChainConfig());
      if (!config.registry) {
        throw new ConfigError("no ModelRegistry address configured", {
          hint: 'deploy the suite with `zkinfer deploy` (it writes deploy/deployments/<chainId>.json), or set ZKINFER_REGISTRY=0x... or "registry" in zkinfer.config.json',
        });
      }
      const loaded = await resolveModelRef(ref, ctx);
      const clients = await connectChain(config);
      const r = await registerModelVersion(clients, config.registry, loaded, {
        ...(opts.metadataUri ? { metadataURI: opts.metadataUri } : {}),
        progress: consoleProgress(`register ${loaded.manifest.name}`),
      });
      if (opts.json) {
        console.log(toJson({ ...r, chainId: clients.chain.id }));
        return;
      }
      console.log(
        table([
          ["model", r.name],
          ["modelId", r.modelId],
          ["version", String(r.version)],
          ["chain", `${clients.chain.id} (${config.rpcUrl})`],
          ["registry", r.registry],
          ["verifier", `${r.verifier} (codehash ${loaded.manifest.verifier.codeHash})`],
          ["owner", r.owner],
          ...r.txs.map((t): [string, string] => [`gas: ${t.label}`, `${t.gasUsed} (tx ${t.hash})`]),
        ]),
      );
    });
}
