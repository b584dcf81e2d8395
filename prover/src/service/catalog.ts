import type { Address, Hex, PublicClient } from "viem";
import { modelRegistryAbi } from "../chain/abis.js";
import { versionParams } from "../chain/register.js";
import type { Engine } from "../engine/engine.js";
import { InputShapeError } from "../errors.js";
import { checkInputRange, inputSpecOf } from "../models/input.js";
import { resolveModelRef } from "../models/resolve.js";
import type { LoadedModel } from "../models/store.js";
import { inputSpan } from "../models/tensors.js";
import type { Logger } from "../util/logger.js";
import type { FailCode } from "./store.js";

/**
 * The models a service proves, loaded once at start-up. On-chain requests name (modelId, version);
 * the catalog maps those to a served model by reading the registered version and matching its
 * verifying-key hash and verifier code hash against the build manifests — the trust chain decides,
 * not a name.
 */
export interface ServedModel {
  model: LoadedModel;
  /** |fixed-point value| must stay within this: the build's measured input range (else base^legs - 1). */
  inputBound: bigint;
}

export class ModelCatalog {
  private readonly byName = new Map<string, ServedModel>();
  private readonly onChain = new Map<string, { served: ServedModel; mismatch: string | undefined } | null>();
  private readonly variantSizes = new Map<string, Promise<number[]>>();

  /** Load (building if needed) each model into `catalog` (a new one by default). */
  static async load(
    refs: string[],
    opts: { engine: () => Engine; logger: Logger },
    catalog = new ModelCatalog(),
  ): Promise<ModelCatalog> {
    for (const ref of refs) {
      const model = await resolveModelRef(ref, { ...opts, showProgress: false });
      const range = model.manifest.inputRange;
      const bound = range
        ? BigInt(range.maxAbsFixed)
        : BigInt(model.manifest.layout.decompBase) ** BigInt(model.manifest.layout.decompLegs) - 1n;
      catalog.byName.set(model.manifest.name, { model, inputBound: bound });
      opts.logger.info({ model: model.manifest.name, dir: model.dir, vkHash: model.manifest.hashes.vk }, "serving model");
    }
    return catalog;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  get(name: string): ServedModel | undefined {
    return this.byName.get(name);
  }

  /**
   * The served model registered as (modelId, version), or why it cannot be served: no served build has
   * the version's vk and verifier ("not_served", which a restart with that build undoes), or the
   * registered instance layout or scales differ from the build's (a proof would be refused on-chain).
   */
  async resolveOnChain(
    client: PublicClient,
    registry: Address,
    modelId: Hex,
    version: number,
  ): Promise<{ served: ServedModel } | { reason: string; code: FailCode; model?: string }> {
    const k = `${modelId}:${version}`;
    let hit = this.onChain.get(k);
    if (hit === undefined) {
      const v = await client.readContract({
        address: registry,
        abi: modelRegistryAbi,
        functionName: "getVersion",
        args: [modelId, version],
      });
      const match = [...this.byName.values()].find(
        (s) =>
          `0x${s.model.manifest.hashes.vk}` === v.vkHash.toLowerCase() &&
          s.model.manifest.vka.digest === v.vkaDigest.toLowerCase(),
      );
      hit = match ? { served: match, mismatch: match && layoutMismatch(match, v) } : null;
      this.onChain.set(k, hit);
    }
    if (!hit)
      return {
        reason: `model ${modelId} version ${version} is not served here (no served build has its vk and verifier)`,
        code: "not_served",
      };
    if (hit.mismatch)
      return {
        reason: `model ${modelId} version ${version} is registered with ${hit.mismatch}; a proof would be refused on-chain`,
        code: "unservable",
        model: hit.served.model.manifest.name,
      };
    return { served: hit.served };
  }

  /**
   * The batch sizes above 1 this node can prove (modelId, version) at: registered on-chain with the version (a
   * version's variants are immutable with it, so the answer is cached) and built here with the same VKA digest.
   */
  batchSizes(client: PublicClient, registry: Address, served: ServedModel, modelId: Hex, version: number): Promise<number[]> {
    const k = `${modelId}:${version}`;
    let hit = this.variantSizes.get(k);
    if (!hit) {
      hit = client
        .readContract({ address: registry, abi: modelRegistryAbi, functionName: "variants", args: [modelId, version] })
        .then((registered) =>
          registered
            .filter((r) =>
              served.model.manifest.variants.some(
                (v) => v.batch === Number(r.batchSize) && v.vka.digest === r.vkaDigest.toLowerCase(),
              ),
            )
            .map((r) => Number(r.batchSize))
            .filter((b) => b > 1)
            .sort((a, b) => a - b),
        );
      // A failed read (RPC trouble) is not cached: the next group asks again.
      hit.catch(() => this.variantSizes.delete(k));
      this.variantSizes.set(k, hit);
    }
    return hit;
  }

  /** What GET /models shows: each served build, its circuit's shapes and scales, and the on-chain versions it matched. */
  describe() {
    return [...this.byName.values()].map((s) => {
      const m = s.model.manifest;
      return {
        name: m.name,
        dir: s.model.dir,
        vkHash: `0x${m.hashes.vk}`,
        vkaDigest: m.vka.digest,
        logrows: m.circuit.logrows,
        inputs: m.circuit.instanceLayout.inputs,
        outputs: m.circuit.instanceLayout.outputs,
        inputScale: m.circuit.inputScale,
        inputBound: String(s.inputBound),
        onChain: [...this.onChain]
          .filter(([, v]) => v?.served === s)
          .map(([k, v]) => {
            const [modelId, version] = k.split(":");
            return {
              modelId,
              version: Number(version),
              servable: !v!.mismatch,
              ...(v!.mismatch ? { mismatch: v!.mismatch } : {}),
            };
          }),
      };
    });
  }

  /** Check an input (fixed point) against a model: element count and the circuit's value range. */
  static validateInput(served: ServedModel, fixed: readonly bigint[]): void {
    const m = served.model.manifest;
    const expected = inputSpan(m).count;
    if (fixed.length !== expected) {
      throw new InputShapeError(`input has ${fixed.length} values but model '${m.name}' takes ${expected}`, {
        hint: `send exactly ${expected} values`,
      });
    }
    checkInputRange({ ...inputSpecOf(m), maxAbsFixed: served.inputBound }, fixed);
  }
}

/** How a registered version's layout and scales differ from a build's, or undefined when they agree. */
function layoutMismatch(
  s: ServedModel,
  v: { inputScale: number; outputScale: number; layout: Record<string, number> },
): string | undefined {
  const want = versionParams(s.model.manifest, "");
  const diffs: string[] = [];
  if (Number(v.inputScale) !== want.inputScale) diffs.push(`inputScale ${v.inputScale} (the build has ${want.inputScale})`);
  if (Number(v.outputScale) !== want.outputScale) diffs.push(`outputScale ${v.outputScale} (the build has ${want.outputScale})`);
  for (const [key, value] of Object.entries(want.layout))
    if (Number(v.layout[key]) !== value) diffs.push(`layout.${key} ${v.layout[key]} (the build has ${value})`);
  return diffs.length ? diffs.join(", ") : undefined;
}
