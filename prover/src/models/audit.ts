import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CircuitSettings, Engine } from "../engine/engine.js";
import { UserInputError } from "../errors.js";
import { sha256File } from "../util/hash.js";
import { silentProgress, type Progress } from "../util/progress.js";
import { srsProvenance, type SrsProvenance } from "./srs.js";
import type { LoadedModel } from "./store.js";
import { derivationProblem, registeredBlockLayoutProblem, variantModel } from "./variants.js";
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

function comparer(checks: AuditCheck[]) {
  return (link: string, exp: string, act: string, note?: string) =>
    checks.push({
      link,
      expected: norm(exp),
      actual: norm(act),
      result: norm(exp) === norm(act) ? "match" : "MISMATCH",
      ...(note ? { note } : {}),
    });
}

/** Compile from the ONNX and settings, set keys up with the SRS, make the VKA: the links the audit compares. */
async function rebuildKeys(engine: Engine, files: AuditFiles, dir: string, progress: Progress, label: string) {
  const p = (n: string) => join(dir, n);
  await progress.step(`${label}compile the circuit from the ONNX model and settings.json`, () =>
    engine.compile({ model: files.onnx, compiled: p("network.ezkl"), settings: files.settings }),
  );
  await progress.step(`${label}key setup with the SRS`, () =>
    engine.setup({ compiled: p("network.ezkl"), vk: p("vk.key"), pk: p("pk.key"), srs: files.srs }),
  );
  const vka = await progress.step(`${label}verifying-key artifact (VKA) from the rebuilt key`, () =>
    buildVka(engine, { vk: p("vk.key"), settings: files.settings, srs: files.srs, vka: p("vka.bin") }),
  );
  return { circuitHash: await sha256File(p("network.ezkl")), vkHash: await sha256File(p("vk.key")), vka };
}

/** A batch variant as the registry holds it with the version (`variants`), and the VKA its store contract holds. */
export interface RegisteredVariant {
  batchSize: number;
  vkaDigest: string;
  storedVkaDigest: string;
}

/**
 * The batch variants of a build, each against the manifest and, auditing against a chain, the variants the
 * registry holds with the version (the same batch sizes, and each registered and stored VKA digest the one
 * rebuilt here): the graph is
 * the symbolic-batch rewrite of the version's network.onnx, repeated here and compared by hash; the
 * variant's settings derive from batch 1's (same run arguments but batch_size, logrows and inner columns, the
 * logrows its rows need, the same scales); then the SRS, the verifying key from a fresh key setup and the VKA.
 */
export async function auditVariants(
  engine: Engine,
  model: LoadedModel,
  opts: { progress?: Progress; registered?: readonly RegisteredVariant[] } = {},
): Promise<{ ok: boolean; checks: AuditCheck[] }> {
  const progress = opts.progress ?? silentProgress;
  const checks: AuditCheck[] = [];
  const compare = comparer(checks);
  const registered = opts.registered;
  if (registered) {
    compare(
      "batch variants registered with the version",
      model.manifest.variants.map((v) => v.batch).join(",") || "none",
      registered.map((v) => v.batchSize).join(",") || "none",
      "a version's variants are fixed when it is added",
    );
    const problem = registeredBlockLayoutProblem(model.manifest.circuit.instanceLayout);
    if (registered.length && problem) {
      compare("block layout the registry derives for the variants", "one input and one output tensor", problem);
    }
  }
  const base = JSON.parse(readFileSync(model.file("settings"), "utf8")) as CircuitSettings;
  for (const v of model.manifest.variants) {
    const variant = variantModel(model, v.batch);
    const tag = `batch ${v.batch}: `;
    const dir = mkdtempSync(join(tmpdir(), "zkinfer-audit-variant-"));
    try {
      const graph = join(dir, "network.onnx");
      await progress.step(`${tag}the symbolic-batch graph, rewritten from network.onnx`, () =>
        engine.batchOnnx({ model: model.file("onnx"), out: graph }),
      );
      compare(`${tag}graph (rewrite of network.onnx, sha256)`, v.onnx.sha256, await sha256File(graph));
      const settingsFile = variant.file("settings");
      if (!existsSync(settingsFile) || !existsSync(variant.file("srs")))
        throw new UserInputError(`batch ${v.batch}: ${variant.dir} lacks settings.json or kzg.srs`, {
          hint: "publish the whole artifact directory, batch-<N>/ directories included",
        });
      compare(`${tag}settings.json (sha256)`, v.hashes.settings, await sha256File(settingsFile));
      const settings = JSON.parse(readFileSync(settingsFile, "utf8")) as CircuitSettings;
      compare(
        `${tag}settings derive from batch 1's`,
        "derived",
        derivationProblem(base, settings, v.batch) ?? "derived",
        "batch 1's run arguments but batch_size, inner columns, the Freivalds switch and the logrows the rows need",
      );
      const srsSha = await sha256File(variant.file("srs"));
      compare(`${tag}SRS (sha256)`, v.srs.sha256, srsSha);
      compare(`${tag}SRS provenance`, v.srs.provenance, srsProvenance(srsSha, settings.run_args.logrows));
      const rebuilt = await rebuildKeys(
        engine,
        { onnx: graph, settings: settingsFile, srs: variant.file("srs") },
        dir,
        progress,
        tag,
      );
      compare(`${tag}verifying key (sha256)`, v.hashes.vk, rebuilt.vkHash);
      compare(`${tag}VKA digest (keccak256)`, v.vka.digest, rebuilt.vka.digest);
      const onChain = registered?.find((r) => r.batchSize === v.batch);
      if (onChain) {
        compare(`${tag}VKA digest registered with the version`, onChain.vkaDigest, rebuilt.vka.digest);
        compare(
          `${tag}VKA stored on-chain (keccak256)`,
          onChain.vkaDigest,
          onChain.storedVkaDigest,
          "the code of the registry's VKA store",
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { ok: checks.every((c) => c.result !== "MISMATCH"), checks };
}

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
  const compare = comparer(checks);

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
    const rebuilt = await rebuildKeys(engine, files, dir, progress, "");
    checks.push({
      link: "compiled circuit (sha256)",
      expected: norm(expected.circuitHash),
      actual: rebuilt.circuitHash,
      result: "reported",
      note: "EZKL's circuit serialisation is not byte-stable; the verifying key below is compared instead",
    });
    compare("verifying key (sha256)", expected.vkHash, rebuilt.vkHash);
    compare("VKA digest (keccak256)", expected.vkaDigest, rebuilt.vka.digest);
    compare("SRS G2 points in the VKA", expected.srs, rebuilt.vka.ceremonySrs ? "ceremony" : "dev");
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
