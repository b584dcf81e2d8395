import { concat, encodeFunctionData, keccak256, type Address, type Hex, type PublicClient } from "viem";
import { ArtifactError } from "../errors.js";
import { halo2VerifierReusableAbi } from "./abis.js";

/**
 * Reading a version's VKA from its on-chain store and asking the suite verifier about a proof, the
 * way the coordinator does (nothing sent: eth_call).
 */

/** The VKA words held by a registry store contract (its code: a STOP byte, then the words). */
export async function readStoredVka(client: PublicClient, store: Address): Promise<Hex[]> {
  const code = await client.getCode({ address: store });
  if (!code || code.length < 4 || (code.length - 4) % 64 !== 0 || !code.startsWith("0x00")) {
    throw new ArtifactError(`${store} holds no VKA (code ${code ? (code.length - 2) / 2 : 0} bytes)`);
  }
  const words: Hex[] = [];
  for (let i = 4; i < code.length; i += 64) words.push(`0x${code.slice(i, i + 64)}`);
  return words;
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
