import { readFile } from "node:fs/promises";
import type { Engine } from "../engine/engine.js";
import { concat, keccak256, type Hex } from "viem";
import { ArtifactError } from "../errors.js";
import { CEREMONY_NEG_TAU_G2_WORDS, G2_ONE_WORDS } from "./srs.js";

/**
 * The verifying-key artifact (VKA) of a circuit: what EZKL's reusable verifier checks proofs
 * against, registered on-chain as a model version's data. EZKL writes it as bincode
 * `Vec<[u8; 32]>`: an 8-byte little-endian word count, then the words.
 */
export interface Vka {
  words: Hex[];
  /** keccak256 of the packed words: the digest the suite verifier registers and returns. */
  digest: Hex;
  /** Whether its SRS G2 points (words 16..23) are the public ceremony's. */
  ceremonySrs: boolean;
}

/** The shortest VKA EZKL writes: its SRS G2 points end at word 24. */
const MIN_WORDS = 24;

export function parseVka(bytes: Uint8Array, what = "VKA"): Vka {
  if (bytes.length < 8) throw new ArtifactError(`${what} is ${bytes.length} bytes, shorter than its length prefix`);
  const count = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (bytes.length !== 8 + 32 * count || count < MIN_WORDS) {
    throw new ArtifactError(`${what} is not an EZKL VKA: ${bytes.length} bytes for ${count} words`, {
      hint: "rebuild the model: zkinfer model build --force <source>",
    });
  }
  const words: Hex[] = [];
  for (let i = 0; i < count; i++) words.push(`0x${Buffer.from(bytes.subarray(8 + 32 * i, 40 + 32 * i)).toString("hex")}`);
  return { words, digest: keccak256(concat(words)), ceremonySrs: isCeremonyVka(words) };
}

export async function readVka(path: string): Promise<Vka> {
  return parseVka(new Uint8Array(await readFile(path)), path);
}

/** The same test as the registry's `isCeremonyVka`: both G2 points are the ceremony's. */
export function isCeremonyVka(words: readonly Hex[]): boolean {
  const expected = [...G2_ONE_WORDS, ...CEREMONY_NEG_TAU_G2_WORDS];
  return words.length >= MIN_WORDS && expected.every((w, i) => words[16 + i]?.toLowerCase() === w);
}

/** Writes the VKA of a built circuit with EZKL and reads it back. */
export async function buildVka(engine: Engine, a: { vk: string; settings: string; srs: string; vka: string }): Promise<Vka> {
  await engine.createEvmVka(a);
  return readVka(a.vka);
}
