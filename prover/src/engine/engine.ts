import { feltFromLeHex } from "./felt.js";
import { WorkerProcess, type WorkerOptions } from "./worker-process.js";

/**
 * The EZKL engine: the only way the rest of zkinfer reaches EZKL. Paths are absolute file paths;
 * field elements come back as bigints. EZKL itself runs in a long-lived Python worker
 * (prover/python/worker.py); its licence is not an open-source one, which is why it stays behind
 * this interface.
 */
export interface EngineInfo {
  protocol: number;
  ezklVersion: string;
  python: string;
  pid: number;
}

export interface TensorInfo {
  name: string;
  shape: (number | string)[];
  elemType: number;
}

export interface OnnxInfo {
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  opset: { domain: string; version: number }[];
  nodes: number;
  /** How many nodes of each ONNX operator the graph has (the build warns about costly ones). */
  opTypes: Record<string, number>;
}

/** The subset of EZKL's settings.json zkinfer reads. */
export interface CircuitSettings {
  run_args: {
    input_scale: number;
    param_scale: number;
    logrows: number;
    input_visibility: string;
    output_visibility: string;
    param_visibility: string;
    lookup_range: [number, number];
    [key: string]: unknown;
  };
  num_rows: number;
  model_instance_shapes: number[][];
  model_input_scales: number[];
  model_output_scales: number[];
  required_range_checks: [number, number][];
  version: string;
  [key: string]: unknown;
}

export interface Witness {
  /** Input field elements per input tensor. */
  inputs: bigint[][];
  /** Output field elements per output tensor. */
  outputs: bigint[][];
}

export interface ProveResult {
  /** The public instances, flattened: inputs then outputs (the verifier's `instances`). */
  instances: bigint[];
  /** The proof bytes as 0x-hex (the verifier's `proof`). */
  proof: `0x${string}`;
  /** With `measurePeak`: the worker's peak resident memory during this proof (Linux), if it could be read. */
  peakRssBytes?: number;
}

/** EZKL run arguments the settings search varies (unset: EZKL's defaults). */
export interface LayoutArgs {
  decompBase?: number;
  decompLegs?: number;
  numInnerCols?: number;
  inputScale?: number;
  paramScale?: number;
  logrows?: number;
}

export interface VariantSettingsArgs {
  model: string;
  /** The batch-1 settings.json the variant derives from. */
  base: string;
  settings: string;
  batch: number;
  logrows: number;
  numInnerCols: number;
}

export type CalibrationTarget = "resources" | "accuracy";

/** What `prepareOnnx` did to an exported file (see prover/python/onnx_prep.py). */
export interface PreparedOnnx {
  /** False when the file needed nothing and was copied byte for byte. */
  changed: boolean;
  /** One line per change, for the build's output and the manifest. */
  notes: string[];
}

export interface Engine {
  info(): Promise<EngineInfo>;
  inspectOnnx(model: string): Promise<OnnxInfo>;
  /** Writes `out`: the exported model made self-contained and EZKL-ready, or refuses it with a hint. */
  prepareOnnx(a: { model: string; out: string; samples?: number[][] }): Promise<PreparedOnnx>;
  /** Writes `out`: the version's (prepared) ONNX with a symbolic leading axis, for a batch variant; deterministic. */
  batchOnnx(a: { model: string; out: string; samples?: number[][] }): Promise<PreparedOnnx>;
  runOnnx(model: string, inputs: number[][]): Promise<number[][]>;
  /** A batch variant's settings: the batch-1 settings' run arguments with batch_size = `batch`, `logrows`, `numInnerCols`
   *  and EZKL's Freivalds check off (prover/src/models/variants.ts says why). */
  variantSettings(a: VariantSettingsArgs): Promise<CircuitSettings>;
  genSettings(a: { model: string; settings: string; layout?: LayoutArgs }): Promise<CircuitSettings>;
  calibrate(a: {
    data: string;
    model: string;
    settings: string;
    target: CalibrationTarget;
    maxLogrows?: number;
    /** Only try these input/param scales (the settings search fixes the scale per candidate). */
    scales?: number[];
  }): Promise<CircuitSettings>;
  compile(a: { model: string; compiled: string; settings: string }): Promise<void>;
  genSrs(a: { srs: string; logrows: number }): Promise<void>;
  setup(a: { compiled: string; vk: string; pk: string; srs: string }): Promise<void>;
  witness(a: { data: string; compiled: string; witness: string }): Promise<Witness>;
  /** Witnesses of flat samples; `inputCounts` cuts each into the model's input tensors (default: one). */
  witnessBatch(a: { inputs: number[][]; inputCounts?: number[]; compiled: string; scratch: string }): Promise<Witness[]>;
  /** `measurePeak`: reset the worker's peak RSS first and report this proof's peak (the settings search). */
  prove(a: {
    witness: string;
    compiled: string;
    pk: string;
    proof: string;
    srs: string;
    measurePeak?: boolean;
  }): Promise<ProveResult>;
  verify(a: { proof: string; settings: string; vk: string; srs: string }): Promise<{ valid: boolean; reason: string | null }>;
  createEvmVerifier(a: { vk: string; settings: string; sol: string; abi: string; srs: string }): Promise<{ note: string | null }>;
  /** The verifying-key artifact the reusable verifier takes (bincode: 8-byte LE length, then 32-byte words). */
  createEvmVka(a: { vk: string; settings: string; vka: string; srs: string }): Promise<void>;
  /** EZKL's reusable verifier (`Halo2VerifierReusable`), the same source for every circuit. */
  createReusableVerifier(a: { sol: string; scratch: string }): Promise<{ note: string | null }>;
  close(): Promise<void>;
}

type RawWitness = { inputs: string[][]; outputs: string[][] };
const toWitness = (w: RawWitness): Witness => ({
  inputs: w.inputs.map((t) => t.map(feltFromLeHex)),
  outputs: w.outputs.map((t) => t.map(feltFromLeHex)),
});

export class EzklEngine implements Engine {
  readonly worker: WorkerProcess;
  /** Calls made, by operation (tests use it to see that a cached build runs no key setup). */
  readonly calls = new Map<string, number>();
  /** Per-call timeout (ms) for the calls that follow; undefined: the worker's default. */
  timeoutMs: number | undefined;

  constructor(options: WorkerOptions = {}) {
    this.worker = new WorkerProcess(options);
  }

  private call<T>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    this.calls.set(op, (this.calls.get(op) ?? 0) + 1);
    return this.worker.call<T>(op, args, this.timeoutMs);
  }

  info(): Promise<EngineInfo> {
    return this.call("hello");
  }
  inspectOnnx(model: string): Promise<OnnxInfo> {
    return this.call("inspect_onnx", { model });
  }
  prepareOnnx(a: { model: string; out: string; samples?: number[][] }): Promise<PreparedOnnx> {
    return this.call("prepare_onnx", a);
  }
  batchOnnx(a: { model: string; out: string; samples?: number[][] }): Promise<PreparedOnnx> {
    return this.call("batch_onnx", a);
  }
  async variantSettings(a: VariantSettingsArgs): Promise<CircuitSettings> {
    return (await this.call<{ settings: CircuitSettings }>("variant_settings", { ...a })).settings;
  }
  async runOnnx(model: string, inputs: number[][]): Promise<number[][]> {
    return (await this.call<{ outputs: number[][] }>("run_onnx", { model, inputs })).outputs;
  }
  async genSettings(a: { model: string; settings: string; layout?: LayoutArgs }): Promise<CircuitSettings> {
    const r = await this.call<{ settings: CircuitSettings }>("gen_settings", {
      model: a.model,
      settings: a.settings,
      ...a.layout,
      inputVisibility: "public",
      outputVisibility: "public",
      paramVisibility: "fixed",
    });
    return r.settings;
  }
  async calibrate(a: {
    data: string;
    model: string;
    settings: string;
    target: CalibrationTarget;
    maxLogrows?: number;
    scales?: number[];
  }): Promise<CircuitSettings> {
    return (await this.call<{ settings: CircuitSettings }>("calibrate", a)).settings;
  }
  async compile(a: { model: string; compiled: string; settings: string }): Promise<void> {
    await this.call("compile", a);
  }
  async genSrs(a: { srs: string; logrows: number }): Promise<void> {
    await this.call("gen_srs", a);
  }
  async setup(a: { compiled: string; vk: string; pk: string; srs: string }): Promise<void> {
    await this.call("setup", a);
  }
  async witness(a: { data: string; compiled: string; witness: string }): Promise<Witness> {
    return toWitness(await this.call<RawWitness>("witness", a));
  }
  async witnessBatch(a: { inputs: number[][]; inputCounts?: number[]; compiled: string; scratch: string }): Promise<Witness[]> {
    const r = await this.call<{ witnesses: RawWitness[] }>("witness_batch", a);
    return r.witnesses.map(toWitness);
  }
  async prove(a: {
    witness: string;
    compiled: string;
    pk: string;
    proof: string;
    srs: string;
    measurePeak?: boolean;
  }): Promise<ProveResult> {
    const r = await this.call<{ instances: string[][]; hexProof: string; peakRssBytes: number | null }>("prove", a);
    return {
      instances: r.instances.flat().map(feltFromLeHex),
      proof: r.hexProof as `0x${string}`,
      ...(r.peakRssBytes != null ? { peakRssBytes: r.peakRssBytes } : {}),
    };
  }
  verify(a: { proof: string; settings: string; vk: string; srs: string }): Promise<{ valid: boolean; reason: string | null }> {
    return this.call("verify", a);
  }
  createEvmVerifier(a: {
    vk: string;
    settings: string;
    sol: string;
    abi: string;
    srs: string;
  }): Promise<{ note: string | null }> {
    return this.call("create_evm_verifier", a);
  }
  async createEvmVka(a: { vk: string; settings: string; vka: string; srs: string }): Promise<void> {
    await this.call("create_evm_vka", a);
  }
  createReusableVerifier(a: { sol: string; scratch: string }): Promise<{ note: string | null }> {
    return this.call("create_reusable_verifier", a);
  }
  close(): Promise<void> {
    return this.worker.close();
  }
}
