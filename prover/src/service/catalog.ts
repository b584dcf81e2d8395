import { readFileSync } from "node:fs";
import type { Address, Hex, PublicClient } from "viem";
import { modelRegistryAbi } from "../chain/abis.js";
import type { Engine } from "../engine/engine.js";
import { fixedToFloat } from "../engine/felt.js";
import { InputShapeError, InvalidInputError } from "../errors.js";
import { resolveModelRef } from "../models/resolve.js";
import type { LoadedModel } from "../models/store.js";
import { inputSpan } from "../models/tensors.js";
import type { Logger } from "../util/logger.js";

/**
 * The models a service proves, loaded once at start-up. On-chain requests name (modelId, version);
 * the catalog maps those to a served model by reading the registered version and matching its
 * verifying-key hash and verifier code hash against the build manifests — the trust chain decides,
 * not a name.
 */
export interface ServedModel {
  model: LoadedModel;
  /** |fixed-point value| must stay below this for EZKL's range decomposition (base^legs). */
  inputBound: bigint;
}

export class ModelCatalog {
  private readonly byName = new Map<string, ServedModel>();
  private readonly onChain = new Map<string, ServedModel | null>();

  static async load(refs: string[], opts: { engine: () => Engine; logger: Logger }): Promise<ModelCatalog> {
    const catalog = new ModelCatalog();
    for (const ref of refs) {
      const model = await resolveModelRef(ref, { ...opts, showProgress: false });
      const settings = JSON.parse(readFileSync(model.file("settings"), "utf8")) as {
        run_args: { decomp_base: number; decomp_legs: number };
      };
      const bound = BigInt(settings.run_args.decomp_base) ** BigInt(settings.run_args.decomp_legs);
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

  /** The served model registered as (modelId, version), or undefined if we do not serve it. */
  async resolveOnChain(client: PublicClient, registry: Address, modelId: Hex, version: number): Promise<ServedModel | undefined> {
    const k = `${modelId}:${version}`;
    if (this.onChain.has(k)) return this.onChain.get(k) ?? undefined;
    const v = await client.readContract({
      address: registry,
      abi: modelRegistryAbi,
      functionName: "getVersion",
      args: [modelId, version],
    });
    const match = [...this.byName.values()].find(
      (s) =>
        `0x${s.model.manifest.hashes.vk}` === v.vkHash.toLowerCase() &&
        s.model.manifest.verifier.codeHash === v.verifierCodeHash.toLowerCase(),
    );
    this.onChain.set(k, match ?? null);
    return match;
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
    const i = fixed.findIndex((v) => v >= served.inputBound || v <= -served.inputBound);
    if (i >= 0) {
      const limit = fixedToFloat(served.inputBound, m.circuit.inputScale);
      throw new InvalidInputError(
        `input element ${i} (${fixedToFloat(fixed[i]!, m.circuit.inputScale)}) is outside the circuit's range (|x| < ${limit})`,
        {
          hint: `model '${m.name}' represents values at scale 2^${m.circuit.inputScale} within ±${served.inputBound} units`,
        },
      );
    }
  }
}
