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
    table,
    "",
  ];
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
  ]);
  lines.push(...Object.entries(r.method).flatMap(([k, s]) => (skip.has(k) ? [] : [`- ${s}`])), "");
  return lines.join("\n");
}
