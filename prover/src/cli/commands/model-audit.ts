import type { Command } from "commander";
import { createPublicClient, http, isAddress, isHex, keccak256, type Hex } from "viem";
import { modelRegistryAbi } from "../../chain/abis.js";
import { RpcUnreachableError } from "../../chain/clients.js";
import { loadChainConfig } from "../../chain/config.js";
import { withDeployment } from "../../chain/deployments.js";
import { ConfigError, UserInputError } from "../../errors.js";
import { auditModel, auditVariants, type AuditExpectation, type RegisteredVariant } from "../../models/audit.js";
import { modelIdOf } from "../../sdk/inference.js";
import { readStoredVka, VERSION_VKA_OFFSET, vkaDigest } from "../../chain/suite-verifier.js";
import { suiteVerifierArtifact } from "../../models/suite-verifier.js";
import { consoleProgress } from "../../util/progress.js";
import type { CliContext } from "../context.js";
import { table, toJson } from "../format.js";
import { resolveModelRef } from "../resolve-model.js";

export function registerModelAudit(model: Command, ctx: CliContext): void {
  model
    .command("audit")
    .summary("rebuild a model's key and VKA from its published files and compare every link of the trust chain")
    .description(
      "rebuild the trust chain from a model's published files — network.onnx, settings.json and the SRS — and compare " +
        "each link: the ONNX, settings and SRS hashes, the SRS's provenance (ceremony or dev), the verifying key from a " +
        "fresh key setup, the VKA digest made from it, and (on-chain) the VKA the registry stores and the suite " +
        "verifier's code hash (registered, deployed, and as this checkout compiles it); then each batch variant " +
        "(model build --batch) against the manifest: its graph rewritten again from network.onnx, its settings derived " +
        "from batch 1's, a fresh key setup and its VKA digest. With --model-id or " +
        "--owner, the expected hashes are the registered version's (RPC and registry as for `model register`); " +
        "without, the artifact directory's own manifest.json. Exit code 1 on any mismatch",
    )
    .argument("<model>", "the artifact directory the owner published (or a built model's name)")
    .option("--model-id <id>", "audit against this registered model (0x + 64 hex)")
    .option("--owner <address>", "audit against the model the artifact's name was registered under by <address>")
    .option("--version <n>", "registered version (0 = latest active)", "0")
    .option("--srs <file>", "the SRS to set keys up with (default: the artifact directory's kzg.srs)")
    .option("--json", "print the checks as JSON")
    .action(async (ref: string, opts: { modelId?: string; owner?: string; version: string; srs?: string; json?: boolean }) => {
      const loaded = await resolveModelRef(ref, ctx);
      const m = loaded.manifest;
      let expected: AuditExpectation;
      let against: string;
      let registered: RegisteredVariant[] | undefined;
      if (opts.modelId || opts.owner) {
        const version = Number(opts.version);
        if (!Number.isInteger(version) || version < 0)
          throw new UserInputError(`--version must be 0 or a version number, not '${opts.version}'`);
        let modelId: Hex;
        if (opts.modelId) {
          if (!(isHex(opts.modelId) && opts.modelId.length === 66))
            throw new UserInputError(`--model-id must be 0x + 64 hex digits, not '${opts.modelId}'`);
          modelId = opts.modelId;
        } else {
          if (!isAddress(opts.owner!)) throw new UserInputError(`--owner is not an address: ${opts.owner}`);
          modelId = modelIdOf(opts.owner, m.name);
        }
        const config = await withDeployment(loadChainConfig());
        if (!config.registry)
          throw new ConfigError("no ModelRegistry address configured", {
            hint: "deploy with `zkinfer deploy` (deploy/deployments/<chainId>.json), or set ZKINFER_REGISTRY",
          });
        const client = createPublicClient({ transport: http(config.rpcUrl, { retryCount: 1, timeout: 30_000 }) });
        const registry = config.registry;
        let v: number;
        try {
          v =
            version ||
            (await client.readContract({
              address: registry,
              abi: modelRegistryAbi,
              functionName: "latestActiveVersion",
              args: [modelId],
            }));
        } catch (e) {
          throw new RpcUnreachableError(`cannot read the registry ${registry} at ${config.rpcUrl}`, {
            hint: "check ZKINFER_RPC_URL and that the model is registered there",
            cause: e,
          });
        }
        if (v === 0) throw new UserInputError(`model ${modelId} has no active version in ${registry}`);
        const rv = await client.readContract({
          address: registry,
          abi: modelRegistryAbi,
          functionName: "getVersion",
          args: [modelId, v],
        });
        const suite = await client.readContract({
          address: registry,
          abi: modelRegistryAbi,
          functionName: "suiteVerifier",
          args: [rv.suiteVerifierId],
        });
        const code = await client.getCode({ address: suite.verifier });
        expected = {
          modelHash: rv.modelHash,
          settingsHash: rv.settingsHash,
          circuitHash: rv.circuitHash,
          srsHash: rv.srsHash,
          vkHash: rv.vkHash,
          vkaDigest: rv.vkaDigest,
          srs: rv.ceremonySrs ? "ceremony" : "dev",
          onChain: {
            storedVkaDigest: vkaDigest(await readStoredVka(client, rv.vka, VERSION_VKA_OFFSET)),
            registeredVerifierCodeHash: suite.codeHash,
            deployedVerifierCodeHash: code ? keccak256(code) : "0x(no code)",
            localVerifierCodeHash: suiteVerifierArtifact().codeHash,
          },
        };
        against = `registered version ${v} of ${modelId} in ${registry}`;
        const onChainVariants = await client.readContract({
          address: registry,
          abi: modelRegistryAbi,
          functionName: "variants",
          args: [modelId, v],
        });
        registered = [];
        for (const x of onChainVariants) {
          registered.push({
            batchSize: x.batchSize,
            vkaDigest: x.vkaDigest,
            storedVkaDigest: vkaDigest(await readStoredVka(client, x.vka)),
          });
        }
      } else {
        expected = {
          modelHash: m.hashes.model,
          settingsHash: m.hashes.settings,
          circuitHash: m.hashes.circuit,
          srsHash: m.hashes.srs,
          vkHash: m.hashes.vk,
          vkaDigest: m.vka.digest,
          srs: m.srs.provenance,
        };
        against = `${loaded.dir}/manifest.json`;
      }
      process.stderr.write(`[audit] ${m.name}: against ${against}\n`);
      const progress = consoleProgress(`audit ${m.name}`, 3 + 4 * m.variants.length);
      const base = await auditModel(
        ctx.engine(),
        { onnx: loaded.file("onnx"), settings: loaded.file("settings"), srs: opts.srs ?? loaded.file("srs") },
        expected,
        { progress },
      );
      const variants = await auditVariants(ctx.engine(), loaded, { progress, ...(registered ? { registered } : {}) });
      const result = { ok: base.ok && variants.ok, checks: [...base.checks, ...variants.checks] };
      if (opts.json) console.log(toJson({ against, ...result }));
      else {
        console.log(
          table(
            result.checks.map((c): [string, string] => [
              c.link,
              `${c.result}${c.result === "MISMATCH" ? ` (expected ${c.expected}, rebuilt ${c.actual})` : ` ${c.actual}`}${c.note ? ` — ${c.note}` : ""}`,
            ]),
          ),
        );
        console.log(result.ok ? `\nAUDIT PASSED: every compared link matches ${against}` : `\nAUDIT FAILED: see MISMATCH above`);
      }
      if (!result.ok) process.exitCode = 1;
    });
}
