import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Engine } from "../engine/engine.js";
import { keccak256, type Hex } from "viem";
import { ArtifactError, EzklError } from "../errors.js";
import { sha256 } from "../util/hash.js";
import { packageRoot, projectRoot } from "../util/paths.js";

/**
 * The suite verifier's source: EZKL's reusable verifier (`Halo2VerifierReusable`), rendered by the
 * pinned EZKL and compiled by Hardhat with the rest of the contracts. EZKL's releases carry no
 * open-source licence, so it is a git-ignored build artifact in contracts/generated/, written here
 * before any compile (scripts/gen-suite-verifier.ts; `npm test`, `npm run compile`, `zkinfer
 * deploy`, `zkinfer demo` run it). The file starts with a header naming the EZKL version and how to
 * regenerate it; the rendered body is left exactly as EZKL wrote it.
 */
export const SUITE_VERIFIER_SOURCE = join(projectRoot, "contracts", "generated", "Halo2VerifierReusable.sol");

const header = (ezklVersion: string, bodySha: string) =>
  [
    "// GENERATED FILE - do not edit. EZKL's reusable verifier (create_evm_verifier(..., reusable=True)),",
    `// rendered by EZKL ${ezklVersion} (PyPI ezkl, pinned in prover/python/requirements.txt); body sha256 ${bodySha}.`,
    "// A build artifact, git-ignored: regenerate with `node --import tsx scripts/gen-suite-verifier.ts --force`",
    "// (run by npm test / npm run compile / zkinfer deploy before compiling).",
    "",
  ].join("\n");

/** The EZKL version named in an existing generated file's header, or null. */
export function generatedEzklVersion(path = SUITE_VERIFIER_SOURCE): string | null {
  if (!existsSync(path)) return null;
  return /rendered by EZKL (\S+) /.exec(readFileSync(path, "utf8").slice(0, 400))?.[1] ?? null;
}

/** The EZKL version prover/python/requirements.txt pins. */
export function pinnedEzklVersion(): string {
  const pin = /^ezkl==(\S+)/m.exec(readFileSync(join(packageRoot, "python", "requirements.txt"), "utf8"));
  if (!pin?.[1]) throw new EzklError("read requirements", "prover/python/requirements.txt pins no ezkl version");
  return pin[1];
}

/**
 * Writes the suite verifier's source unless a file from the pinned EZKL version is there (then no
 * engine is started). `engine` is created only when the file must be (re)generated.
 */
export async function ensureSuiteVerifierSource(
  engine: () => Engine,
  opts: { force?: boolean; path?: string } = {},
): Promise<{ path: string; generated: boolean; ezklVersion: string }> {
  const path = opts.path ?? SUITE_VERIFIER_SOURCE;
  const pinned = pinnedEzklVersion();
  if (!opts.force && generatedEzklVersion(path) === pinned) return { path, generated: false, ezklVersion: pinned };
  const e = engine();
  try {
    return await generate(e, path);
  } finally {
    await e.close();
  }
}

async function generate(engine: Engine, path: string): Promise<{ path: string; generated: boolean; ezklVersion: string }> {
  const { ezklVersion } = await engine.info();
  const scratch = join(projectRoot, ".zkinfer", `.tmp-suite-verifier-p${process.pid}-${randomBytes(4).toString("hex")}`);
  mkdirSync(scratch, { recursive: true });
  try {
    const sol = join(scratch, "Halo2VerifierReusable.sol");
    await engine.createReusableVerifier({ sol, scratch });
    const body = await readFile(sol, "utf8");
    if (!body.includes("contract Halo2VerifierReusable")) {
      throw new EzklError("create reusable verifier", `${sol} holds no Halo2VerifierReusable contract`);
    }
    mkdirSync(join(path, ".."), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, header(ezklVersion, sha256(body)) + body);
    renameSync(tmp, path);
    return { path, generated: true, ezklVersion };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The compiled suite verifier as Hardhat wrote it, with its runtime code hash (what the registry pins). */
export function suiteVerifierArtifact(): { deployedBytecode: Hex; codeHash: Hex; deployedSize: number } {
  const path = join(
    projectRoot,
    "artifacts",
    "contracts",
    "generated",
    "Halo2VerifierReusable.sol",
    "Halo2VerifierReusable.json",
  );
  if (!existsSync(path)) {
    throw new ArtifactError(`no compiled suite verifier at ${path}`, {
      hint: "generate and compile it: npm run compile",
    });
  }
  const deployedBytecode = (JSON.parse(readFileSync(path, "utf8")) as { deployedBytecode: Hex }).deployedBytecode;
  return { deployedBytecode, codeHash: keccak256(deployedBytecode), deployedSize: (deployedBytecode.length - 2) / 2 };
}
