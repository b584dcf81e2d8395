import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Engine } from "../engine/engine.js";
import { UserInputError } from "../errors.js";
import { sha256File } from "../util/hash.js";
import { cacheDir } from "../util/paths.js";

/**
 * The structured reference string (SRS) a build's keys are made with, and where it came from. A
 * dev SRS is generated on this machine: whoever generated it could keep its secret tau and forge
 * any proof. The ceremony SRS is the public Perpetual Powers of Tau ceremony as EZKL distributes
 * it (`get_srs`: han0110/halo2-kzg-srs, perpetual-powers-of-tau-raw-<k>), checked against the
 * SHA-256 EZKL pins for each k.
 */
export type SrsProvenance = "ceremony" | "dev";

/**
 * EZKL's pinned SHA-256 of the public ceremony SRS file per logrows k, copied from zkonduit/ezkl
 * src/srs_sha.rs (`PUBLIC_SRS_SHA256_HASHES`, commit 5da444ee, the table `get_srs` checks downloads
 * against in src/execute.rs `check_srs_hash`).
 */
export const CEREMONY_SRS_SHA256: Readonly<Record<number, string>> = {
  1: "cafb2aa72c200ddc4e28aacabb8066e829207e2484b8d17059a566232f8a297b",
  2: "8194ec51da5d332d2e17283ade34920644774452c2fadf33742e8c739e275d8e",
  3: "0729e815bce2ac4dfad7819982c6479c3b22c32b71f64dca05e8fdd90e8535ef",
  4: "2c0785da20217fcafd3b12cc363a95eb2529037cc8a9bddf8fb15025cbc8cdc9",
  5: "5b950e3b76e7a9923d69f6d6585ce6b5f9458e5ec57a71c9de5005d32d544692",
  6: "85030b2924111fc60acaf4fb8a7bad89531fbe0271aeab0c21e545f71eee273d",
  7: "e65f95150519fe01c2bedf8f832f5249822ef84c9c017307419e10374ff9eeb1",
  8: "446092fd1d6030e5bb2f2a8368267d5ed0fbdb6a766f6c5e4a4841827ad3106f",
  9: "493d088951882ad81af11e08c791a38a37c0ffff14578cf2c7fb9b7bca654d8b",
  10: "9705d450e5dfd06adb673705f7bc34418ec86339203198beceb2ae7f1ffefedb",
  11: "257fa566ed9bc0767d3e63e92b5e966829fa3347d320a32055dc31ee7d33f8a4",
  12: "28b151069f41abc121baa6d2eaa8f9e4c4d8326ddbefee2bd9c0776b80ac6fad",
  13: "d5d94bb25bdc024f649213593027d861042ee807cafd94b49b54f1663f8f267d",
  14: "c09129f064c08ecb07ea3689a2247dcc177de6837e7d2f5f946e30453abbccef",
  15: "90807800a1c3b248a452e1732c45ee5099f38b737356f5542c0584ec9c3ebb45",
  16: "2a1a494630e71bc026dd5c0eab4c1b9a5dbc656228c1f0d48f5dbd3909b161d3",
  17: "41509f380362a8d14401c5ae92073154922fe23e45459ce6f696f58607655db7",
  18: "d0148475717a2ba269784a178cb0ab617bc77f16c58d4a3cbdfe785b591c7034",
  19: "d1a1655b4366a766d1578beb257849a92bf91cb1358c1a2c37ab180c5d3a204d",
  20: "54ef75911da76d7a6b7ea341998aaf66cb06c679c53e0a88a4fe070dd3add963",
  21: "486e044cf98704e07f41137d2b89698dc03d1fbf34d13b60902fea19a6013b4b",
  22: "1ee9b4396db3e4e2516ac5016626ab6ba967f091d5d23afbdb7df122a0bb9d0c",
  23: "748e48b9b6d06f9c82d26bf551d0af43ee2e801e4be56d7ccb20312e267fd1d6",
  24: "f94fa4afa2f5147680f907d4dd96a8826206c26bd3328cd379feaed614b234de",
  25: "dec49a69893fbcd66cd06296b2d936a6aceb431c130b2e52675fe4274b504f57",
  26: "b198a51d48b88181508d8e4ea9dea39db285e4585663b29b7e4ded0c22a94875",
};

/** The SRS G2 points EZKL puts in a VKA (words 16..23; see contracts/interfaces/IHalo2VerifierReusable.sol). */
export const G2_ONE_WORDS = [
  "0x198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2",
  "0x1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed",
  "0x090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b",
  "0x12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa",
] as const;

/**
 * -[tau]2 of the ceremony SRS, as every EZKL verifier built on it embeds it (`neg_s_g2`); copied
 * from zkonduit/ezkl@5da444ee tests/assets/wasm.code, the same constants as in ModelRegistry.sol.
 */
export const CEREMONY_NEG_TAU_G2_WORDS = [
  "0x186282957db913abd99f91db59fe69922e95040603ef44c0bd7aa3adeef8f5ac",
  "0x17944351223333f260ddc3b4af45191b856689eda9eab5cbcddbbe570ce860d2",
  "0x06d971ff4a7467c3ec596ed6efc674572e32fd6f52b721f97e35b0b3d3546753",
  "0x06ecdb9f9567f59ed2eee36e1e1d58797fd13cc97fafc2910f5e8a12f202fa9a",
] as const;

/** Where `zkinfer srs import` puts the ceremony SRS for k, and where builds look for it. */
export const ceremonySrsPath = (logrows: number): string => join(cacheDir(), "srs", `ceremony-k${logrows}.srs`);

/** The provenance of an SRS file for k: ceremony exactly when its SHA-256 is EZKL's pinned one. */
/** The logrows for which an imported ceremony SRS is in place (`zkinfer srs import`). */
export function importedCeremonyLogrows(): number[] {
  return Object.keys(CEREMONY_SRS_SHA256)
    .map(Number)
    .filter((k) => existsSync(ceremonySrsPath(k)));
}

export function srsProvenance(sha256: string, logrows: number): SrsProvenance {
  return CEREMONY_SRS_SHA256[logrows] === sha256 ? "ceremony" : "dev";
}

/**
 * `zkinfer srs import <file> --logrows k`: checks the file's SHA-256 against EZKL's pinned hash for
 * k and copies it to `ceremonySrsPath(k)`, where every later build for k finds it.
 */
export async function importCeremonySrs(file: string, logrows: number): Promise<{ path: string; sha256: string }> {
  const pinned = CEREMONY_SRS_SHA256[logrows];
  if (!Number.isInteger(logrows) || pinned === undefined) {
    throw new UserInputError(`no ceremony SRS is pinned for logrows ${logrows}`, {
      hint: "EZKL pins the ceremony SRS for logrows 1..26; give the k the file is for (--logrows)",
    });
  }
  if (!existsSync(file)) {
    throw new UserInputError(`SRS file not found: ${file}`, { hint: "give the path of the downloaded ceremony file" });
  }
  const sha256 = await sha256File(file);
  if (sha256 !== pinned) {
    throw new UserInputError(
      `${file} is not the ceremony SRS for logrows ${logrows}: its SHA-256 is ${sha256}, EZKL pins ${pinned}`,
      {
        hint: `download perpetual-powers-of-tau-raw-${logrows} (the file EZKL's get_srs fetches) and import it with the matching --logrows`,
      },
    );
  }
  const path = ceremonySrsPath(logrows);
  mkdirSync(join(cacheDir(), "srs"), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    copyFileSync(file, tmp);
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
  return { path, sha256 };
}

/** The SRS for a logrows: the given file, else the ceremony file `zkinfer srs import` placed for it, else none (dev). */
export function srsFileForLogrows(k: number, srsFile?: string): string | undefined {
  return srsFile ?? (existsSync(ceremonySrsPath(k)) ? ceremonySrsPath(k) : undefined);
}

/** A dev SRS per logrows, generated once and kept in .zkinfer/srs. Not for production. */
export async function ensureDevSrs(engine: Engine, logrows: number): Promise<string> {
  const dir = join(cacheDir(), "srs");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `dev-k${logrows}.srs`);
  if (!existsSync(path)) {
    const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
    try {
      await engine.genSrs({ srs: tmp, logrows });
      renameSync(tmp, path);
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  return path;
}
