import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Address, Hex, PublicClient } from "viem";
import { modelRegistryAbi } from "../chain/abis.js";
import { feltToLeHex } from "../engine/felt.js";
import type { Engine } from "../engine/engine.js";
import type { LoadedModel } from "../models/store.js";
import { variantModel } from "../models/variants.js";
import type { Fulfilment, ReceiptCheck } from "./receipt.js";

/**
 * Check a fulfilment's proof with EZKL on this machine, against a local build of the model, instead
 * of trusting the chain's execution of the verifier. The build must be the registered one: its
 * verifying-key hash is compared with the registry's first (the weights live in the VK, so this pins
 * the model). Needs the EZKL engine; dApps that only read the chain use `verifyReceipt`.
 */
export async function verifyReceiptLocally(
  engine: Engine,
  model: LoadedModel,
  fulfilment: Fulfilment,
  opts: { client: PublicClient; registry: Address },
): Promise<{ valid: boolean; checks: ReceiptCheck[] }> {
  const checks: ReceiptCheck[] = [];
  const v = await opts.client.readContract({
    address: opts.registry,
    abi: modelRegistryAbi,
    functionName: "getVersion",
    args: [fulfilment.receipt.modelId, fulfilment.receipt.version],
  });
  const localVk = `0x${model.manifest.hashes.vk}` as Hex;
  const vkOk = localVk.toLowerCase() === v.vkHash.toLowerCase();
  checks.push({
    name: "verifying key",
    ok: vkOk,
    detail: `local ${model.manifest.name} vk sha256 ${localVk}, registered ${v.vkHash}`,
  });
  if (!vkOk) {
    checks.push({ name: "proof (EZKL)", ok: false, detail: "not checked: the local build is not the registered version" });
    return { valid: false, checks };
  }
  // A batched fulfilment is a proof of one of the version's batch variants: check it with the local variant,
  // whose VKA digest must be the one registered with the version.
  const size = fulfilment.batch.size;
  const circuit = variantModel(model, size);
  if (size !== 1) {
    const [, , , , registered] = await opts.client.readContract({
      address: opts.registry,
      abi: modelRegistryAbi,
      functionName: "batchTarget",
      args: [fulfilment.receipt.modelId, fulfilment.receipt.version, size],
    });
    const ok = circuit.manifest.vka.digest.toLowerCase() === registered.toLowerCase();
    checks.push({
      name: `batch-${size} variant`,
      ok,
      detail: `local batch-${size} VKA digest ${circuit.manifest.vka.digest}, registered with the version ${registered}`,
    });
    if (!ok) return { valid: false, checks };
  }
  const dir = mkdtempSync(join(tmpdir(), "zkinfer-receipt-"));
  try {
    const bytes = Buffer.from(fulfilment.proof.slice(2), "hex");
    const proofPath = join(dir, "proof.json");
    // EZKL's proof file, rebuilt from what went on-chain: the proof bytes and the instances as
    // little-endian field elements.
    writeFileSync(
      proofPath,
      JSON.stringify({
        protocol: null,
        instances: [fulfilment.instances.map(feltToLeHex)],
        proof: [...bytes],
        hex_proof: fulfilment.proof,
        split: null,
        pretty_public_inputs: null,
        timestamp: null,
        version: model.manifest.ezklVersion,
      }),
    );
    const r = await engine.verify({
      proof: proofPath,
      settings: circuit.file("settings"),
      vk: circuit.file("vk"),
      srs: circuit.file("srs"),
    });
    checks.push({
      name: "proof (EZKL)",
      ok: r.valid,
      detail: r.valid ? `EZKL ${model.manifest.ezklVersion} accepts the proof with the local vk` : `EZKL rejects it: ${r.reason}`,
    });
    return { valid: checks.every((c) => c.ok), checks };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
