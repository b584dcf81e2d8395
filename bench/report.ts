import type { BatchFigures } from "./batch.js";
import type { BatchFulfilFigures, FulfilPoint, OpenFillPoint, SingleFulfil } from "./batch-fulfil.js";
import type { WindowFigures } from "./window.js";
import type { GasBreakdown } from "./trace.js";
import type { BuildFigures } from "./build.js";
import type { GasFigures } from "./chain.js";
import type { MachineInfo } from "./machine.js";
import type { ProvingFigures } from "./prove.js";
import type { QueueCost } from "./fleet.js";
import type { BurstFigures, LatencyFigures } from "./service.js";
import type { Summary } from "./stats.js";
import type { TuneFigures } from "./tune.js";

export interface ModelResults {
  logrows: number;
  instances: number;
  build: BuildFigures;
  proving: ProvingFigures;
  gas: GasFigures | null;
  latency: LatencyFigures | null;
  bursts: BurstFigures[];
  /** The tuned build against EZKL's default calibration (`--tune off`), interleaved in this run. */
  tuning: TuneFigures | null;
}

export interface BenchResults {
  schema: 1;
  date: string;
  startedAt: string;
  finishedAt: string;
  wallTimeMs: number;
  command: string;
  options: {
    models: string[];
    runs: number;
    requests: number;
    burst: number;
    workers: number[];
    coldBuilds: boolean;
    chain: boolean;
  };
  machine: MachineInfo;
  /** How each figure is measured. */
  method: Record<string, string>;
  models: Record<string, ModelResults>;
  service: {
    settings: Record<string, number>;
    /** Peak RSS after all of a configuration's requests: the service's node process and each EZKL worker. */
    peakRss: { workers: number; nodeMiB: number | null; workersMiB: (number | null)[] }[];
  } | null;
  /** Batch variants of one model proved and verified through the suite verifier (`--batches`). */
  batch?: BatchFigures | null;
  /** Service processes sharing one PostgreSQL store. */
  fleet?: {
    queueCost: QueueCost[];
    throughput: (BurstFigures & { processes: number })[];
  } | null;
}

const ms = (x: number): string =>
  x >= 1000 ? `${(x / 1000).toFixed(2)} s` : x >= 10 ? `${Math.round(x)} ms` : `${x.toFixed(1)} ms`;
const spread = (s: Summary): string => (s.n > 1 ? `${ms(s.median)} (${ms(s.min)}–${ms(s.max)})` : ms(s.median));
const int = (x: number): string => x.toLocaleString("en-US");
const x = (r: number): string => `${r.toFixed(3)}×`;
const x_ = x;
const size = (bytes: number): string =>
  bytes >= 2 ** 20
    ? `${(bytes / 2 ** 20).toFixed(1)} MiB`
    : bytes >= 2 ** 10
      ? `${(bytes / 2 ** 10).toFixed(1)} KiB`
      : `${bytes} B`;

/**
 * `fulfill` before the market (main at e2d6548, test/gas/coordinator.json: tuned circuits, suite verifier,
 * no lock): the anchor issue 12's target is measured against.
 */
const PRE_MARKET_FULFIL: Record<string, number> = { "digits-mlp": 634_048, "diabetes-mlp": 698_026 };

/** Issue 14's targets for the gas of one verified inference, and its anchor (request + fulfil at batch 1 before batching). */
export const BATCH_TARGETS = { allIn: { 8: 300_000, 16: 250_000 } as Record<number, number>, request: 100_000, anchor: 878_000 };

/** The batch fulfilment section: the gas of one verified inference at each batch size, and where it goes. */
export function renderFulfilMarkdown(f: BatchFulfilFigures, b: BatchFigures): string {
  const pts = f.points;
  const one = pts.find((p) => p.batch === 1);
  const row = (label: string, cells: string[]) => `| ${label} | ${cells.join(" | ")} |`;
  const cols = (cell: (p: FulfilPoint) => string) => pts.map(cell);
  const withSingle = (s: (x: SingleFulfil) => string, cell: (p: FulfilPoint) => string) =>
    f.single ? [s(f.single), ...cols(cell)] : cols(cell);
  const header = [...(f.single ? ["batch 1, `fulfill`"] : []), ...pts.map((p) => `batch ${p.batch}, \`fulfillBatch\``)];
  const target = (p: FulfilPoint) => BATCH_TARGETS.allIn[p.batch];
  const verdict = (value: number, limit: number) =>
    `${value <= limit ? "met" : "**not met**"} (${int(value)} vs ≤ ${int(limit)})`;
  const spreadGas = (xs: number[]) => {
    const s = [...xs].sort((x, y) => x - y);
    const med = s.length % 2 ? s[(s.length - 1) / 2]! : Math.round((s[s.length / 2 - 1]! + s[s.length / 2]!) / 2);
    return s.length > 1 ? `${int(med)} (${int(s[0]!)}–${int(s.at(-1)!)}), n=${s.length}` : int(med);
  };
  const proveOf = (batch: number) => b.points.find((q) => q.batch === batch);
  const lines = [
    `### Batched fulfilment of \`${f.model}\` through the coordinator: N requests, one lock (or one commit), one proof, one \`fulfillBatch\``,
    "",
    `Version ${f.version}, registered with variants ${f.registration.withVariants.variants.join(", ")}; ${f.instancesPerInference} public instances per inference. Gas per verified inference (mined gasUsed; n=1 transaction of each kind per batch size, the N requests each):`,
    "",
    `| per verified inference | ${header.join(" | ")} |`,
    `| --- | ${header.map(() => "---").join(" | ")} |`,
    row(
      "request (`requestInference`; mean over the N)",
      withSingle(
        (x) => int(x.requestGas),
        (p) => int(p.perRequest.request),
      ),
    ),
    row(
      "lock share (one `lock` of the N, / N)",
      withSingle(
        (x) => int(x.lockGas),
        (p) => int(p.perRequest.lockShare),
      ),
    ),
    row(
      "fulfil share (the fulfilment / N)",
      withSingle(
        (x) => int(x.fulfilGas),
        (p) => int(p.perRequest.fulfilShare),
      ),
    ),
    row(
      "**all-in** = request + lock share + fulfil share",
      withSingle(
        (x) => `**${int(x.allIn)}**`,
        (p) => `**${int(p.perRequest.allIn)}**`,
      ),
    ),
    row(
      `… vs the anchor (~${int(BATCH_TARGETS.anchor)}, batch 1 before batching)`,
      withSingle(
        (x) => x_(x.allIn / BATCH_TARGETS.anchor),
        (p) => x_(p.perRequest.allIn / BATCH_TARGETS.anchor),
      ),
    ),
    row(
      "… vs this run's batch 1 `fulfill` all-in",
      withSingle(
        () => x_(1),
        (p) => (f.single ? x_(p.perRequest.allIn / f.single.allIn) : "—"),
      ),
    ),
    row(
      "target (all-in ≤ 300k at batch 8, ≤ 250k at batch 16)",
      withSingle(
        () => "—",
        (p) => (target(p) ? verdict(p.perRequest.allIn, target(p)!) : "—"),
      ),
    ),
    row(
      `target: request ≤ ${int(BATCH_TARGETS.request)}`,
      withSingle(
        (x) => verdict(x.requestGas, BATCH_TARGETS.request),
        (p) => verdict(p.perRequest.request, BATCH_TARGETS.request),
      ),
    ),
    row(
      "open path: request (mean over N more requests)",
      withSingle(
        (x) => int(x.open.requestGas),
        (p) => int(p.open.perRequest.request),
      ),
    ),
    row(
      "open path: commit share (one `commit` for the N, / N)",
      withSingle(
        (x) => int(x.open.commitGas),
        (p) => int(p.open.perRequest.commitShare),
      ),
    ),
    row(
      "open path: fulfil share (the open fill / N)",
      withSingle(
        (x) => int(x.open.fulfilGas),
        (p) => int(p.open.perRequest.fulfilShare),
      ),
    ),
    row(
      "**all-in, open path** = request + commit share + fulfil share",
      withSingle(
        (x) => `**${int(x.open.allIn)}**`,
        (p) => `**${int(p.open.perRequest.allIn)}**`,
      ),
    ),
    row(
      "target, open path (all-in ≤ 300k at batch 8, ≤ 250k at batch 16)",
      withSingle(
        () => "—",
        (p) => (target(p) ? verdict(p.open.perRequest.allIn, target(p)!) : "—"),
      ),
    ),
    row(
      `prove per inference (median / N, n=${b.runs}, interleaved, from the table above)`,
      withSingle(
        () => (proveOf(1) ? ms(proveOf(1)!.provePerInferenceMs) : "—"),
        (p) => (proveOf(p.batch) ? ms(proveOf(p.batch)!.provePerInferenceMs) : "—"),
      ),
    ),
    row(
      "latency the batching window adds",
      withSingle(
        () => (b.window ? "the window table below" : "not measured in this run"),
        () => (b.window ? "the window table below" : "not measured in this run"),
      ),
    ),
    "",
    "The transactions:",
    "",
    `| | ${pts.map((p) => `batch ${p.batch}`).join(" | ")} |`,
    `| --- | ${pts.map(() => "---").join(" | ")} |`,
    row(
      "`requestInference` gas, median (min–max) over the N",
      cols((p) => spreadGas(p.requestGas)),
    ),
    row(
      "… of which the input's calldata (median)",
      cols((p) => spreadGas(p.requestCalldataGas).split(" ")[0]!),
    ),
    row(
      "`lock` of the N requests, one transaction",
      cols((p) => int(p.lockGas)),
    ),
    row(
      "`fulfillBatch` (calldata bytes)",
      cols((p) => `${int(p.fulfilBatchGas)} (${int(p.fulfilBatchCalldataBytes)} B)`),
    ),
    row(
      "bare suite verifier `verifyProof` of the same proof, VKA in calldata",
      cols((p) => int(p.verifyGas)),
    ),
    row(
      "calldata gas: `fulfillBatch` / bare `verifyProof`",
      cols((p) => `${int(p.fulfilBatchCalldataGas)} / ${int(p.verifyCalldataGas)}`),
    ),
    row(
      "`fulfillBatch` − bare `verifyProof`: what the coordinator adds",
      cols((p) => `${int(p.fulfilBatchGas - p.verifyGas)} (${int(p.perRequest.coordinator)} per request)`),
    ),
    row(
      "receipts checked against the proof's blocks",
      cols((p) => `${p.receiptsChecked} / ${p.batch}`),
    ),
    row(
      "this proof (n=1)",
      cols((p) => ms(p.proveMs)),
    ),
    "",
  ];
  if (f.single) {
    const sf = f.single;
    lines.push(
      `Batch 1, locked: \`fulfill\` ${int(sf.fulfilGas)} vs the bare single-model \`verifyProof\` transaction of the same proof ` +
        `${int(sf.bareVerifyProofGas)}: **${x(sf.fulfilOverBare)}** (issue 11's target ≤ 1.30×: ${sf.fulfilOverBare <= 1.3 ? "met" : "**not met**"}). ` +
        `Traced \`fulfill\`: intrinsic + calldata ${int(sf.traced.fulfil.intrinsic + sf.traced.fulfil.calldata)}, storage writes ` +
        `${int(sf.traced.fulfil.sstore.gas)} (${sf.traced.fulfil.sstore.count} SSTORE), events ${int(sf.traced.fulfil.log.gas)}, rest ${int(sf.traced.fulfil.rest)}.`,
      "",
    );
  }
  if (f.single && one) {
    lines.push(
      `At batch 1, \`fulfill\` costs ${int(f.single.fulfilGas)} and \`fulfillBatch\` of one request ${int(one.fulfilBatchGas)} ` +
        `(${one.fulfilBatchGas - f.single.fulfilGas >= 0 ? "+" : ""}${int(one.fulfilBatchGas - f.single.fulfilGas)}).`,
      "",
    );
  }
  const fit = f.fits;
  if (fit) {
    lines.push(
      `Where one inference's gas goes (least squares through the ${pts.length} batch sizes: bare \`verifyProof\` ≈ ` +
        (fit.verifier ? `${int(fit.verifier.fixed)} + ${fit.verifier.perInstance} × instances` : "— (VKA shapes differ)") +
        `; \`fulfillBatch\` − \`verifyProof\` ≈ ${int(fit.coordinator.fixed)} + ${int(fit.coordinator.perRequest)} × N; ` +
        `\`lock\` ≈ ${int(fit.lock.fixed)} + ${int(fit.lock.perRequest)} × N):`,
      "",
      `| per verified inference | ${pts.map((p) => `batch ${p.batch}`).join(" | ")} |`,
      `| --- | ${pts.map(() => "---").join(" | ")} |`,
    );
    const parts = (p: FulfilPoint) => {
      const n = p.batch;
      const v = fit.verifier;
      return {
        request: p.perRequest.request,
        lockFixed: fit.lock.fixed / n,
        lockPer: fit.lock.perRequest,
        verifierFixed: v ? v.fixed / n : NaN,
        verifierInstances: v ? v.perInstance * f.instancesPerInference : NaN,
        coordinatorFixed: fit.coordinator.fixed / n,
        coordinatorPer: fit.coordinator.perRequest,
      };
    };
    const part = (label: string, get: (x: ReturnType<typeof parts>) => number) =>
      lines.push(
        row(
          label,
          cols((p) => (Number.isNaN(get(parts(p))) ? "—" : int(Math.round(get(parts(p)))))),
        ),
      );
    part("request (measured)", (x) => x.request);
    part("lock: the transaction's fixed cost / N", (x) => x.lockFixed);
    part("lock: per request", (x) => x.lockPer);
    part("verifier: fixed cost (pairing, proof, VKA, intrinsic) / N", (x) => x.verifierFixed);
    part(`verifier: per public instance × ${f.instancesPerInference}`, (x) => x.verifierInstances);
    part(
      "coordinator: fixed cost of the batch / N, net of the VKA calldata the bare call pays (the coordinator reads it from its store)",
      (x) => x.coordinatorFixed,
    );
    part("coordinator: per request (block checks, receipt, payment, event)", (x) => x.coordinatorPer);
    lines.push(
      row(
        "fit residual",
        cols((p) => {
          const x = parts(p);
          const sum =
            x.request + x.lockFixed + x.lockPer + x.verifierFixed + x.verifierInstances + x.coordinatorFixed + x.coordinatorPer;
          return Number.isNaN(sum) ? "—" : int(Math.round(p.perRequest.allIn - sum));
        }),
      ),
      row(
        "**all-in (measured)**",
        cols((p) => `**${int(p.perRequest.allIn)}**`),
      ),
      "",
    );
  }
  lines.push(
    "Traced (`debug_traceTransaction`, every frame; storage writes and events are the SSTORE and LOG opcodes' own gas; " +
      "the rest is execution — storage reads, hashing, calls, the verifier's arithmetic — net of refunds):",
    "",
    `| | ${pts.map((p) => `batch ${p.batch}`).join(" | ")} |`,
    `| --- | ${pts.map(() => "---").join(" | ")} |`,
  );
  const traced = (label: string, get: (t: FulfilPoint["traced"]) => GasBreakdown, what: (g: GasBreakdown, n: number) => string) =>
    lines.push(
      row(
        label,
        cols((p) => what(get(p.traced), p.batch)),
      ),
    );
  const writes = (g: GasBreakdown, n: number) =>
    `${int(Math.round(g.sstore.gas / n))} (${+(g.sstore.count / n).toFixed(1)} SSTORE)`;
  const each = (x: number, n: number) => int(Math.round(x / n));
  traced(
    "one request: gasUsed",
    (t) => t.request,
    (g) => int(g.gasUsed),
  );
  traced(
    "… intrinsic + calldata (its input)",
    (t) => t.request,
    (g) => `${int(g.intrinsic)} + ${int(g.calldata)}`,
  );
  traced(
    "… storage writes",
    (t) => t.request,
    (g) => writes(g, 1),
  );
  traced(
    "… events",
    (t) => t.request,
    (g) => int(g.log.gas),
  );
  traced(
    "… rest",
    (t) => t.request,
    (g) => int(g.rest),
  );
  traced("`lock` / N: storage writes", (t) => t.lock, writes);
  traced(
    "… events",
    (t) => t.lock,
    (g, n) => each(g.log.gas, n),
  );
  traced(
    "… intrinsic + calldata + rest",
    (t) => t.lock,
    (g, n) => each(g.intrinsic + g.calldata + g.rest, n),
  );
  traced("`fulfillBatch` / N: storage writes", (t) => t.fulfilBatch, writes);
  traced(
    "… events",
    (t) => t.fulfilBatch,
    (g, n) => each(g.log.gas, n),
  );
  traced(
    "… intrinsic + calldata (proof, instances, ids)",
    (t) => t.fulfilBatch,
    (g, n) => each(g.intrinsic + g.calldata, n),
  );
  traced(
    "… rest (mostly the verifier)",
    (t) => t.fulfilBatch,
    (g, n) => each(g.rest, n),
  );
  const tracedOpen = (
    label: string,
    get: (t: OpenFillPoint["traced"]) => GasBreakdown,
    what: (g: GasBreakdown, n: number) => string,
  ) =>
    lines.push(
      row(
        label,
        cols((p) => what(get(p.open.traced), p.batch)),
      ),
    );
  tracedOpen(
    "open path: `commit` / N: gasUsed",
    (t) => t.commit,
    (g, n) => each(g.gasUsed, n),
  );
  tracedOpen("… storage writes", (t) => t.commit, writes);
  tracedOpen(
    "open `fulfillBatch` / N: gasUsed",
    (t) => t.fulfilBatch,
    (g, n) => each(g.gasUsed, n),
  );
  tracedOpen("… storage writes", (t) => t.fulfilBatch, writes);
  tracedOpen(
    "… events",
    (t) => t.fulfilBatch,
    (g, n) => each(g.log.gas, n),
  );
  tracedOpen(
    "… intrinsic + calldata",
    (t) => t.fulfilBatch,
    (g, n) => each(g.intrinsic + g.calldata, n),
  );
  tracedOpen(
    "… rest (mostly the verifier)",
    (t) => t.fulfilBatch,
    (g, n) => each(g.rest, n),
  );
  lines.push("");
  // The coordinator's own frame, opcode class by opcode class (traces made before this field existed lack it).
  if (pts.every((p) => p.traced.request.top && p.traced.lock.top && p.traced.fulfilBatch.top)) {
    const topOf = (g: GasBreakdown, n: number) => {
      const t = g.top!;
      const calls = t.calls.map((c) => int(Math.round(c / n))).join(" + ") || "none";
      return (
        `SLOAD ${each(t.sload.gas, n)} (${+(t.sload.count / n).toFixed(1)}), SSTORE ${each(t.sstore.gas, n)}, ` +
        `LOG ${each(t.log.gas, n)}, KECCAK ${each(t.keccak.gas, n)} (${+(t.keccak.count / n).toFixed(1)}), ` +
        `copies ${each(t.copy.gas, n)}, calls ${calls}, other ${each(t.other, n)}`
      );
    };
    lines.push(
      "The coordinator's own frame (the outermost one), per opcode class: each step's gas is the gas left before it " +
        "minus before the frame's next step, so a call's figure is all it cost with its callee (the registry's " +
        "`requestTarget` / `fulfilmentCircuit`, the suite verifier); SLOAD and KECCAK with their counts; other: the " +
        "frame's remaining execution (calldata decoding, the input's field encodings and packing, memory, jumps). " +
        "Intrinsic and calldata gas come on top.",
      "",
      `| | ${pts.map((p) => `batch ${p.batch}`).join(" | ")} |`,
      `| --- | ${pts.map(() => "---").join(" | ")} |`,
    );
    traced(
      "one request",
      (t) => t.request,
      (g) => topOf(g, 1),
    );
    traced("`lock` / N", (t) => t.lock, topOf);
    traced("`fulfillBatch` / N (locked)", (t) => t.fulfilBatch, topOf);
    if (pts.every((p) => p.open.traced.fulfilBatch.top)) tracedOpen("open `fulfillBatch` / N", (t) => t.fulfilBatch, topOf);
    if (f.single?.traced.fulfil.top) lines.push("", `Batch 1, locked \`fulfill\`: ${topOf(f.single.traced.fulfil, 1)}.`);
    lines.push("");
  }
  const r = f.registration;
  lines.push(
    `Registration of the version, each on a fresh suite (registerModel + addVersion): without variants ${int(r.withoutVariants.total)} ` +
      `(addVersion ${int(r.withoutVariants.addVersion)}); with variants ${r.withVariants.variants.join(", ")} ${int(r.withVariants.total)} ` +
      `(addVersion ${int(r.withVariants.addVersion)}): +${int(r.withVariants.total - r.withoutVariants.total)} for the variants.`,
    "",
  );
  return lines.join("\n");
}

/** The batching window: per arrival and window, request → fulfilled latency, the fulfilments and their gas. */
export function renderWindowMarkdown(w: WindowFigures): string {
  const sec = (v: number) => `${(v / 1000).toFixed(2)} s`;
  const signed = (v: number) => `${v >= 0 ? "+" : "−"}${sec(Math.abs(v))}`;
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2]! : Math.round((s[s.length / 2 - 1]! + s[s.length / 2]!) / 2);
  };
  const gasCell = (xs: number[]) => (xs.length > 1 ? `${int(median(xs))} (${xs.map(int).join(", ")})` : int(xs[0]!));
  const lines = [
    `### The latency the batching window adds: \`zkinfer serve --batch-window-ms W\`, \`${w.model}\` with variants ${w.variants.join(", ")}`,
    "",
    `${w.requests} requests per trial from one EOA, one every ${w.spacingMs} ms (stream, ${w.rounds} round${w.rounds > 1 ? "s" : ""} per W, interleaved) or all at once (burst, ${w.burstRounds} round${w.burstRounds > 1 ? "s" : ""}); a fresh service (1 worker) per trial. Latency: request mined → seen fulfilled, over all requests of a W (n = requests × rounds). Batch sizes: the fulfilment transactions of each round, in the order mined: the circuit's batch size (1: \`fulfill\`), with the requests it settled when fewer (padding).`,
    "",
    "| arrival | W | n | latency, median (min–max) | added latency (median − W=0's) | fulfilment txs per round | batch sizes per round | fulfilment gas per request, median (per round) | prover gas per request (+ locks) |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...w.points.map((p) =>
      [
        "",
        p.arrival === "stream" ? `stream, 1 / ${w.spacingMs} ms` : "burst",
        `${int(p.windowMs)} ms`,
        String(p.latency.n),
        `${sec(p.latency.median)} (${sec(p.latency.min)}–${sec(p.latency.max)})`,
        p.addedMs === null ? "—" : p.windowMs === 0 ? "0 (baseline)" : `**${signed(p.addedMs)}**`,
        p.fulfilments.map((f) => f.length).join(", "),
        p.fulfilments
          .map((f) => `[${f.map((x) => (x.requests === x.batch ? String(x.batch) : `${x.batch} (${x.requests})`)).join(", ")}]`)
          .join(" "),
        gasCell(p.fulfilGasPerRequest),
        gasCell(p.proverGasPerRequest),
        "",
      ]
        .join(" | ")
        .trim(),
    ),
    "",
  ];
  return lines.join("\n");
}

/** The batch section: one column per batch size. */
export function renderBatchMarkdown(b: BatchFigures): string {
  const pts = b.points;
  const base = pts.find((p) => p.batch === 1);
  const row = (label: string, cell: (p: (typeof pts)[number]) => string) => `| ${label} | ${pts.map(cell).join(" | ")} |`;
  const gas = (g: number | null) => (g === null ? "—" : int(g));
  const lines = [
    `### Batch variants of \`${b.model}\`: one proof, N inferences, through the suite verifier`,
    "",
    `| | ${pts.map((p) => `batch ${p.batch}`).join(" | ")} |`,
    `| --- | ${pts.map(() => "---").join(" | ")} |`,
    row("logrows / rows / inner columns", (p) => `${p.logrows} / ${int(p.numRows)} / ${p.numInnerCols}`),
    row("public instances", (p) => int(p.instances)),
    row("proving key", (p) => size(p.pkBytes)),
    row("VKA words / proof bytes", (p) => `${p.vkaWords} / ${int(p.proofBytes)}`),
    row(`prove, median (min–max), n=${b.runs}`, (p) => spread(p.prove)),
    row("prove per inference (median / N)", (p) => ms(p.provePerInferenceMs)),
    row("suite verifier `verifyProof` gas (mined, VKA in calldata)", (p) => gas(p.verifyGas)),
    row("… per inference", (p) => `**${gas(p.verifyGasPerInference)}**`),
    row("… per inference vs batch 1", (p) =>
      p.verifyGasPerInference !== null && base?.verifyGasPerInference
        ? x(p.verifyGasPerInference / base.verifyGasPerInference)
        : "—",
    ),
    row("calldata bytes / calldata gas", (p) => `${int(p.calldataBytes)} / ${int(p.calldataGas)}`),
    "",
  ];
  if (b.fit) {
    lines.push(
      `Where the gas goes (least squares over the ${b.fit.points} variants with batch > 1, which share one VKA shape): ` +
        `gas ≈ ${int(b.fit.fixed)} + ${b.fit.perInstance} × instances; of the ${b.fit.perInstance} gas per public instance, ` +
        `${b.fit.calldataPerInstance} is its calldata. The fixed part (the 21,000 intrinsic gas, the proof's and the VKA's ` +
        "calldata, the pairing and the polynomial checks) is shared by the batch.",
      "",
    );
  }
  if (b.alternative) {
    const a = b.alternative;
    const own = pts.find((p) => p.batch === a.batch);
    lines.push(
      `Derived layout vs another at batch ${a.batch} (interleaved, n=${b.runs} each): the build's ` +
        `${own?.numInnerCols ?? "?"} inner column(s), k${own?.logrows ?? "?"}: prove ${spread(a.ownProve)}, ` +
        `verify gas ${gas(own?.verifyGas ?? null)}; ${a.numInnerCols} inner columns, k${a.logrows}: prove ${spread(a.prove)}, ` +
        `verify gas ${gas(a.verifyGas)}, proving key ${size(a.pkBytes)}.`,
      "",
    );
  }
  if (b.fulfilment) lines.push(renderFulfilMarkdown(b.fulfilment, b));
  if (b.window) lines.push(renderWindowMarkdown(b.window));
  return lines.join("\n");
}

/** The markdown report: one column per model, one row per figure; every timed row says its n. */
export function renderMarkdown(r: BenchResults): string {
  const names = Object.keys(r.models);
  const models = names.map((n) => r.models[n]!);
  const rows: [string, string[]][] = [];
  /** A row label with its run count, or the count in each cell when models differ. */
  const timed = (label: string, get: (m: ModelResults) => Summary | undefined, what = "median (min–max)") => {
    const ss = models.map(get);
    const ns = new Set(ss.filter(Boolean).map((s) => s!.n));
    const perCell = ns.size > 1;
    rows.push([
      `${label}, ${what}${perCell ? "" : `, n=${[...ns][0]}`}`,
      ss.map((s) => (s ? `${spread(s)}${perCell ? `, n=${s.n}` : ""}` : "—")),
    ]);
  };
  const row = (label: string, get: (m: ModelResults) => string) => rows.push([label, models.map(get)]);

  row("logrows / public instances", (m) => `${m.logrows} / ${m.instances}`);
  row("build, cold (fresh cache), n=1", (m) =>
    m.build.measured
      ? `${ms(m.build.totalMs!)} (${m.build.srsGenerated ? (m.build.srsMs !== null ? `incl. generating the dev SRS: ${ms(m.build.srsMs)}` : "incl. generating dev SRSs in the settings search") : "dev SRS reused"})`
      : "— (cached build reused)",
  );
  row("… of which key setup", (m) => (m.build.setupMs !== null ? ms(m.build.setupMs) : "—"));
  row(
    "pk / vk / proof size",
    (m) => `${size(m.build.sizes.pkBytes)} / ${size(m.build.sizes.vkBytes)} / ${int(m.proving.proofBytes)} B`,
  );
  timed("witness, zkinfer", (m) => m.proving.zkinfer.witness);
  timed("witness, bare EZKL", (m) => m.proving.bare.witness);
  row("witness, zkinfer / bare (medians)", (m) => x(m.proving.ratio.witness));
  timed("prove, zkinfer", (m) => m.proving.zkinfer.prove);
  timed("prove, bare EZKL", (m) => m.proving.bare.prove);
  row("prove, zkinfer / bare (medians)", (m) => x(m.proving.ratio.prove));
  timed("verify off-chain, zkinfer", (m) => m.proving.zkinfer.verify);
  timed("verify off-chain, bare EZKL", (m) => m.proving.bare.verify);
  row("verify, zkinfer / bare (medians)", (m) => x(m.proving.ratio.verify));
  row("peak RSS of the EZKL process (prove runs): zkinfer worker / bare script", (m) => {
    const mb = (k: number | null) => (k === null ? "?" : `${Math.round(k / 1024)} MiB`);
    return `${mb(m.proving.zkinfer.peakRssKiB)} / ${mb(m.proving.bare.peakRssKiB)}`;
  });
  const t = (get: (t: TuneFigures) => string) => (m: ModelResults) => (m.tuning ? get(m.tuning) : "—");
  const lay = (s: TuneFigures["tuned"]) =>
    `k${s.logrows}, ${s.layout.decompBase}^${s.layout.decompLegs}, ${s.layout.numInnerCols} col${s.layout.numInnerCols > 1 ? "s" : ""}`;
  const acc = (s: TuneFigures["tuned"]) =>
    s.heldout && s.heldout.circuit !== null && s.heldout.float !== null
      ? `${s.heldout.metric} ${s.heldout.circuit.toFixed(4)} (float ${s.heldout.float.toFixed(4)}, n=${s.heldout.samples})`
      : "—";
  row(
    "tuned vs EZKL default: layout (logrows, decomposition, inner columns)",
    t((f) => `${lay(f.tuned)} vs ${lay(f.ezkl)}`),
  );
  timed("tuned: prove", (m) => m.tuning?.tuned.prove);
  timed("EZKL default: prove", (m) => m.tuning?.ezkl.prove);
  row(
    "prove speed-up, default / tuned (medians, interleaved)",
    t((f) => x(f.speedup.prove)),
  );
  row(
    "proving key, tuned vs default (× smaller)",
    t((f) => `${size(f.tuned.pkBytes)} vs ${size(f.ezkl.pkBytes)} (${x(f.speedup.pk)})`),
  );
  row(
    "peak RSS of the proving worker, tuned vs default",
    t((f) => {
      const mb = (k: number | null) => (k === null ? "?" : `${Math.round(k / 1024)} MiB`);
      return `${mb(f.tuned.peakRssKiB)} vs ${mb(f.ezkl.peakRssKiB)}`;
    }),
  );
  row(
    "proof bytes, tuned vs default",
    t((f) => `${int(f.tuned.proofBytes)} vs ${int(f.ezkl.proofBytes)}`),
  );
  row(
    "held-out, tuned vs default",
    t((f) => `${acc(f.tuned)} vs ${acc(f.ezkl)}`),
  );
  row(
    "max |tuned − default| output on the same inputs (tolerance)",
    t((f) => `${f.maxOutputDiff} (${f.tolerance ?? "—"})`),
  );
  row(
    "build, cold, tuned vs default, n=1",
    t((f) => (f.tuned.buildMs !== null && f.ezkl.buildMs !== null ? `${ms(f.tuned.buildMs)} vs ${ms(f.ezkl.buildMs)}` : "—")),
  );
  row(
    "settings search: screened / proved, time",
    t((f) => (f.search ? `${f.search.screened} / ${f.search.measured}, ${ms(f.search.searchMs)}` : "—")),
  );
  if (r.options.chain) {
    row(
      "gas: model verifier `verifyProof`, tuned vs default",
      t((f) =>
        f.tuned.verifyGas !== null && f.ezkl.verifyGas !== null ? `${int(f.tuned.verifyGas)} vs ${int(f.ezkl.verifyGas)}` : "—",
      ),
    );
    row("gas: bare single-model EZKL `verifyProof` (the baseline; was fulfil 650,583 / registration 2.96M + 70k + 357k)", (m) =>
      m.gas ? int(m.gas.bareVerifyProof) : "—",
    );
    row("gas: bare suite (reusable) verifier `verifyProof`, VKA in calldata (× bare)", (m) =>
      m.gas ? `${int(m.gas.bareReusableVerifyProof)} (${x(m.gas.bareReusableVerifyProof / m.gas.bareVerifyProof)})` : "—",
    );
    row("gas: registration, registerModel + addVersion (VKA stored as code)", (m) =>
      m.gas ? `${int(m.gas.registration)} (VKA ${int(m.gas.vkaBytes)} bytes)` : "—",
    );
    row("gas: route `InferenceVerifier.verify` (× bare)", (m) =>
      m.gas ? `${int(m.gas.routeVerify)} (${x(m.gas.routeOverBare)})` : "—",
    );
    row("gas: `requestInference` (EOA, no callback)", (m) => (m.gas ? int(m.gas.requestInference) : "—"));
    row("gas: `InferenceCoordinator.fulfill` of a locked request, through the suite verifier (× bare single-model)", (m) =>
      m.gas ? `${int(m.gas.fulfil)} (${x(m.gas.fulfilOverBare)})` : "—",
    );
    row(
      `gas: market, \`lock\` + locked fulfil (over the pre-market fulfil ${Object.entries(PRE_MARKET_FULFIL)
        .map(([k, v]) => `${k} ${int(v)}`)
        .join(", ")}; target ≤ +60k)`,
      (m) => {
        if (!m.gas) return "—";
        const before = PRE_MARKET_FULFIL[names[models.indexOf(m)]!];
        const over =
          before !== undefined ? ` (${m.gas.lockPlusFulfil - before >= 0 ? "+" : ""}${int(m.gas.lockPlusFulfil - before)})` : "";
        return `${int(m.gas.lock)} + ${int(m.gas.fulfil)} = ${int(m.gas.lockPlusFulfil)}${over}`;
      },
    );
    row("gas: market, `commit` + open fill (no lock)", (m) =>
      m.gas ? `${int(m.gas.commit)} + ${int(m.gas.openFill)} = ${int(m.gas.commitPlusOpenFill)}` : "—",
    );
    const w0 = r.options.workers[0]!;
    timed(`request → fulfilled via the service, ${w0} worker${w0 > 1 ? "s" : ""}`, (m) => m.latency?.requestToFulfilled);
    row("… of which pickup / prove / submit (medians)", (m) =>
      m.latency
        ? `${ms(m.latency.breakdown.pickup.median)} / ${ms(m.latency.breakdown.prove.median)} / ${ms(m.latency.breakdown.submit.median)}`
        : "—",
    );
    for (const w of r.options.workers) {
      row(`throughput, ${w} worker${w > 1 ? "s" : ""}: burst of ${r.options.burst} requests`, (m) => {
        const b = m.bursts.find((b) => b.workers === w);
        return b ? `${b.perMinute} /min (${ms(b.makespanMs)})` : "—";
      });
    }
  }

  const esc = (s: string) => s.replace(/\|/g, "\\|");
  const table = [
    `| | ${names.map((n) => `\`${n}\``).join(" | ")} |`,
    `|---|${names.map(() => "---").join("|")}|`,
    ...rows.map(([label, cells]) => `| ${esc(label)} | ${cells.map(esc).join(" | ")} |`),
  ].join("\n");

  const m = r.machine;
  const lines = [
    `# zkinfer bench, ${r.date}`,
    "",
    `\`${r.command}\`: wall time ${(r.wallTimeMs / 60_000).toFixed(1)} min. ` +
      `Commit \`${m.git.commit.slice(0, 12)}\`${m.git.dirty ? ` (+${m.git.changedFiles} uncommitted changes)` : ""}; ` +
      `${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB RAM, ${m.os}; Node ${m.node}, Python ${m.python}, EZKL ${m.ezkl}, ` +
      `solc ${m.solc}, Hardhat ${m.hardhat}. 1-minute load average: ${m.loadAverage.start[0]} at the start, mean ${m.loadAverage.during.mean} and max ${m.loadAverage.during.max} during the run (the bench alone accounts for up to about 2).`,
    "",
    ...(names.length ? [table, ""] : []),
  ];
  if (r.batch) lines.push(renderBatchMarkdown(r.batch));
  if (r.service) {
    const rss = r.service.peakRss
      .map(
        (p) =>
          `${p.workers} worker${p.workers > 1 ? "s" : ""}: node ${p.nodeMiB ?? "?"} MiB, EZKL ${p.workersMiB.map((w) => `${w ?? "?"} MiB`).join(" + ")}`,
      )
      .join("; ");
    lines.push(`Peak RSS of the prover service serving ${names.length === 1 ? "this model" : "all these models"}: ${rss}.`, "");
  }
  if (r.fleet) {
    const [one, three] = [r.fleet.throughput.find((t) => t.processes === 1), r.fleet.throughput.find((t) => t.processes === 3)];
    const t = r.fleet.throughput
      .map(
        (b) =>
          `${b.processes} process${b.processes > 1 ? "es" : ""}: ${b.perMinute} /min (${b.requests} requests in ${ms(b.makespanMs)})`,
      )
      .join("; ");
    const gain = one && three ? `, ${x(three.perMinute / one.perMinute)} with 3 (${r.machine.cpus} cores bound the gain)` : "";
    const q = r.fleet.queueCost.map((c) => `${c.backend} ${spread(c.perJob)} (n=${c.perJob.n})`).join(", ");
    lines.push(
      `Fleet on one PostgreSQL store: ${t}${gain}. The queue's own cost per job (claim + lease + heartbeat + result): ${q}.`,
      "",
    );
  }
  const skip = new Set([
    ...(r.options.coldBuilds ? [] : ["build"]),
    ...(r.options.chain ? [] : ["gas", "latency", "throughput"]),
    ...(r.fleet ? [] : ["fleet"]),
    ...(r.batch ? [] : ["batch"]),
    ...(r.batch?.fulfilment ? [] : ["batchFulfilment"]),
    ...(r.batch?.window ? [] : ["window"]),
    ...(names.length ? [] : ["tuning", "build", "proving", "rss", "gas", "latency", "throughput"]),
  ]);
  lines.push(...Object.entries(r.method).flatMap(([k, s]) => (skip.has(k) ? [] : [`- ${s}`])), "");
  return lines.join("\n");
}
