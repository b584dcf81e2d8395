import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Engine } from "../engine/engine.js";
import { UserInputError } from "../errors.js";
import { sha256File } from "../util/hash.js";
import { silentProgress, type Progress } from "../util/progress.js";
import { srsProvenance, type SrsProvenance } from "./srs.js";
import { buildVka } from "./vka.js";

/**
 * `zkinfer model audit`: rebuild the links of the trust chain from the published files — the ONNX
 * model, settings.json and the SRS — and compare each with what was registered: ONNX -> settings ->
 * verifying key -> VKA digest -> the registered digest, the SRS's provenance, and (on-chain) the VKA
 * the registry stores and the suite verifier's code.
 *
 * What EZKL 23.0.5 reproduces, measured here: compiling the same ONNX with the same settings.json
 * gives a circuit file with different bytes each time (its serialisation order varies), but key
 * setup from it gives byte-identical vk and pk, and so the same VKA. The circuit hash is therefore
 * reported, not compared: the verifying key — which holds the weights, as fixed parameters — is the
 * link that pins the model. Calibration is not re-run: settings.json itself is compared by hash (a
 * fresh settings file differs in a timestamp and in the order of its range checks).
 */
export interface AuditExpectation {
  modelHash: string;
  settingsHash: string;
  circuitHash: string;
  srsHash: string;
  vkHash: string;
  vkaDigest: string;
  /** The SRS provenance claimed (the registry's ceremonySrs flag, or the manifest's). */
  srs: SrsProvenance;
  /** On-chain facts, when auditing against a chain. */
  onChain?: {
    /** keccak256 of the VKA words the registry's store contract holds. */
    storedVkaDigest: string;
    /** The suite verifier's code hash as the registry recorded it, and as deployed now. */
    registeredVerifierCodeHash: string;
    deployedVerifierCodeHash: string;
    /** The code hash of the suite verifier this checkout generates and compiles (the pinned EZKL). */
    localVerifierCodeHash: string;
  };
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
  const srsSha = await sha256File(files.srs);
  compare("SRS (sha256)", expected.srsHash, srsSha);
  const logrows = (JSON.parse(readFileSync(files.settings, "utf8")) as { run_args: { logrows: number } }).run_args.logrows;
  compare(
    "SRS provenance (sha256 vs EZKL's pinned ceremony hash)",
    expected.srs,
    srsProvenance(srsSha, logrows),
    expected.srs === "dev" ? "a dev SRS: whoever generated it can forge proofs" : undefined,
  );

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
    const vka = await progress.step("verifying-key artifact (VKA) from the rebuilt key", () =>
      buildVka(engine, { vk: p("vk.key"), settings: files.settings, srs: files.srs, vka: p("vka.bin") }),
    );
    compare("VKA digest (keccak256)", expected.vkaDigest, vka.digest);
    compare("SRS G2 points in the VKA", expected.srs, vka.ceremonySrs ? "ceremony" : "dev");
    const c = expected.onChain;
    if (c) {
      compare("VKA stored on-chain (keccak256)", expected.vkaDigest, c.storedVkaDigest, "the code of the registry's VKA store");
      compare(
        "suite verifier (extcodehash)",
        c.registeredVerifierCodeHash,
        c.deployedVerifierCodeHash,
        "the code at the version's suite verifier now, vs the registry's record",
      );
      compare(
        "suite verifier vs this checkout's",
        c.localVerifierCodeHash,
        c.deployedVerifierCodeHash,
        "EZKL's reusable verifier rendered by the pinned EZKL and compiled here",
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { ok: checks.every((c) => c.result !== "MISMATCH"), checks };
}
