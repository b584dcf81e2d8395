import { concat, encodeFunctionData, keccak256, type Address, type Hex, type PublicClient } from "viem";
import { ArtifactError } from "../errors.js";
import { halo2VerifierReusableAbi } from "./abis.js";

/**
 * Reading a version's VKA from its on-chain store and asking the suite verifier about a proof, the
 * way the coordinator does (nothing sent: eth_call).
 */

/**
 * Where the VKA starts in a registry store's code, running to its end: a version's store is a STOP byte, the
 * version's description (168 bytes: artefact hashes and metrics; see `IModelRegistry.ModelVersion.vka`), then the
 * VKA's words; a batch variant's store is the STOP byte and the words.
 */
export const VERSION_VKA_OFFSET = 1 + 168;
export const VARIANT_VKA_OFFSET = 1;

/**
 * The VKA words held by a registry store contract, from `offset` (`VERSION_VKA_OFFSET` for a version's store,
 * `VARIANT_VKA_OFFSET` for a variant's) to the end of its code. A store that does not fit fails with an
 * ArtifactError.
 */
export async function readStoredVka(client: PublicClient, store: Address, offset: number = VARIANT_VKA_OFFSET): Promise<Hex[]> {
  const code = await client.getCode({ address: store });
  const bytes = code ? (code.length - 2) / 2 : 0;
  const vkaBytes = bytes - offset;
  if (!code || !code.startsWith("0x00") || vkaBytes <= 0 || vkaBytes % 32 !== 0) {
    throw new ArtifactError(`${store} holds no VKA from code offset ${offset} (code ${bytes} bytes)`);
  }
  const out: Hex[] = [];
  for (let i = 0; i < vkaBytes / 32; i++) {
    const at = 2 + 2 * offset + 64 * i;
    out.push(`0x${code.slice(at, at + 64)}`);
  }
  return out;
}

export const vkaDigest = (words: readonly Hex[]): Hex => keccak256(concat(words));

/**
 * The suite verifier's answer for a proof against `vka` (eth_call of `verifyProof`): accepted when it
 * returns at least two words, the first 1; `digest` is the second (the VKA digest it checked
 * against). Its third return value is not valid ABI, so the words are read by hand, as the
 * coordinator does.
 */
export async function callSuiteVerifier(
  client: PublicClient,
  verifier: Address,
  proof: Hex,
  instances: readonly bigint[],
  vka: readonly Hex[],
): Promise<{ accepted: boolean; digest: Hex | null; error?: string }> {
  try {
    const { data } = await client.call({
      to: verifier,
      data: encodeFunctionData({
        abi: halo2VerifierReusableAbi,
        functionName: "verifyProof",
        args: [proof, [...instances], [...vka]],
      }),
    });
    if (!data || data.length < 2 + 128) return { accepted: false, digest: null, error: "short return data" };
    return { accepted: BigInt(`0x${data.slice(2, 66)}`) === 1n, digest: `0x${data.slice(66, 130)}` };
  } catch (e) {
    return { accepted: false, digest: null, error: (e as Error).message.split("\n")[0] };
  }
}
