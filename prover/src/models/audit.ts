import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Engine } from "../engine/engine.js";
import { UserInputError } from "../errors.js";
import { sha256File } from "../util/hash.js";
import { silentProgress, type Progress } from "../util/progress.js";
import { compileVerifier } from "./compile-verifier.js";

/**
 * `zkinfer model audit`: rebuild the links of the trust chain from the published files — the ONNX
 * model, settings.json and the SRS — and compare each with what was registered.
 *
 * What EZKL 23.0.5 reproduces, measured here: compiling the same ONNX with the same settings.json
 * gives a circuit file with different bytes each time (its serialisation order varies), but key
 * setup from it gives byte-identical vk and pk, and so the same Solidity verifier. The circuit hash is
 * therefore reported, not compared: the verifying key — which holds the weights, as fixed
 * parameters — is the link that pins the model. Calibration is not re-run: settings.json itself is
 * compared by hash (a fresh settings file differs in a timestamp and in the order of its range checks).
 */
export interface AuditExpectation {
  modelHash: string;
  settingsHash: string;
  circuitHash: string;
  srsHash: string;
  vkHash: string;
  verifierCodeHash: string;
  /** The verifier's code hash as deployed now (extcodehash), when auditing against a chain. */
  deployedCodeHash?: string;
}

export interface AuditCheck {
  link: string;
  expected: string;
  actual: string;
  /** "match", "MISMATCH", or "reported" for a link that is shown but not compared. */
  result: "match" | "MISMATCH" | "reported";
  note?: string;
}

export interface AuditFiles {
  onnx: string;
  settings: string;
  srs: string;
}

const norm = (h: string) => h.toLowerCase().replace(/^0x/, "");

export async function auditModel(
  engine: Engine,
  files: AuditFiles,
  expected: AuditExpectation,
  opts: { progress?: Progress } = {},
): Promise<{ ok: boolean; checks: AuditCheck[] }> {
  const progress = opts.progress ?? silentProgress;
  for (const [what, path] of Object.entries(files))
    if (!existsSync(path))
      throw new UserInputError(`${what} file not found: ${path}`, {
        hint: "audit a built artifact directory (it holds network.onnx, settings.json and kzg.srs) or pass --srs",
      });
  const checks: AuditCheck[] = [];
  const compare = (link: string, exp: string, act: string, note?: string) =>
    checks.push({
      link,
      expected: norm(exp),
      actual: norm(act),
      result: norm(exp) === norm(act) ? "match" : "MISMATCH",
      ...(note ? { note } : {}),
    });

  compare("ONNX model (sha256)", expected.modelHash, await sha256File(files.onnx));
  compare("settings.json (sha256)", expected.settingsHash, await sha256File(files.settings));
  compare("SRS (sha256)", expected.srsHash, await sha256File(files.srs));

  const dir = mkdtempSync(join(tmpdir(), "zkinfer-audit-"));
  try {
    const p = (n: string) => join(dir, n);
    await progress.step("compile the circuit from the ONNX model and settings.json", () =>
      engine.compile({ model: files.onnx, compiled: p("network.ezkl"), settings: files.settings }),
    );
    checks.push({
      link: "compiled circuit (sha256)",
      expected: norm(expected.circuitHash),
      actual: await sha256File(p("network.ezkl")),
      result: "reported",
      note: "EZKL's circuit serialisation is not byte-stable; the verifying key below is compared instead",
    });
    await progress.step("key setup with the SRS", () =>
      engine.setup({ compiled: p("network.ezkl"), vk: p("vk.key"), pk: p("pk.key"), srs: files.srs }),
    );
    compare("verifying key (sha256)", expected.vkHash, await sha256File(p("vk.key")));
    const compiled = await progress.step("Solidity verifier from the rebuilt key (EZKL) and compile it (solc)", async () => {
      await engine.createEvmVerifier({
        vk: p("vk.key"),
        settings: files.settings,
        sol: p("Verifier.sol"),
        abi: p("verifier.abi.json"),
        srs: files.srs,
      });
      return compileVerifier(readFileSync(p("Verifier.sol"), "utf8"));
    });
    compare("verifier runtime code (keccak256)", expected.verifierCodeHash, compiled.codeHash);
    if (expected.deployedCodeHash !== undefined)
      compare(
        "deployed verifier (extcodehash)",
        expected.verifierCodeHash,
        expected.deployedCodeHash,
        "the code at the registered verifier address now",
      );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { ok: checks.every((c) => c.result !== "MISMATCH"), checks };
}
