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
    .summary("register a built model as a new immutable version: its VKA, checked by the suite verifier")
    .description(
      "register a built model as a new immutable version in the ModelRegistry: its verifying-key artifact (VKA), " +
        "stored on-chain and checked by the suite's one verifier (no verifier is deployed), its hashes and SRS provenance. " +
        "A dev-SRS build is refused on any chain but the local dev chain (31337) unless --allow-dev-srs; a build already " +
        "registered for the model (same VKA digest) is refused unless --force. " +
        "The build's batch variants (`model build --batch`) are registered with the version, each VKA stored and checked " +
        "the same way; they are part of the version and can never be added later (build them first). " +
        "RPC and key come from ZKINFER_RPC_URL / ZKINFER_PRIVATE_KEY or zkinfer.config.json; the registry from the " +
        "deployment record deploy/deployments/<chainId>.json written by `zkinfer deploy` (or ZKINFER_REGISTRY)",
    )
    .argument("<model>", "built artifact directory, model directory / .onnx (built if needed), or a built model's name")
    .option("--metadata-uri <uri>", "where the manifest and artifacts can be fetched (default: a data: URI naming the build)")
    .option("--allow-dev-srs", "register a dev-SRS build on a chain other than the local dev chain (tests only)")
    .option("--force", "add the version even if the model already has one with this VKA digest")
    .option("--json", "print the result as JSON")
    .action(async (ref: string, opts: { metadataUri?: string; allowDevSrs?: boolean; force?: boolean; json?: boolean }) => {
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
        allowDevSrs: opts.allowDevSrs ?? false,
        force: opts.force ?? false,
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
          ["suite verifier", r.verifier],
          ["VKA", `${r.vkaDigest} (stored at ${r.vka})`],
          ["SRS", r.ceremonySrs ? "ceremony" : "dev (generated on the build machine: not for production)"],
          [
            "batch variants",
            r.variants.length
              ? r.variants.map((v) => `batch ${v.batchSize} (VKA ${v.vkaDigest.slice(0, 10)}…)`).join(", ")
              : "none",
          ],
          ["owner", r.owner],
          ...r.txs.map((t): [string, string] => [`gas: ${t.label}`, `${t.gasUsed} (tx ${t.hash})`]),
        ]),
      );
    });
}
