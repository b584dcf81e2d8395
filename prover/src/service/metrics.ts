/**
 * A small Prometheus registry (text exposition format 0.0.4): counters, gauges and histograms with
 * labels. Enough for /metrics without another dependency.
 */
type Labels = Record<string, string>;
const key = (labels: Labels) =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}="${String(labels[k]).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`)
    .join(",");

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge" | "histogram",
  ) {}
  abstract lines(): string[];
  /** Refresh values read from elsewhere (the store) just before rendering. */
  async collect(): Promise<void> {}
  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`, ...this.lines()].join("\n");
  }
}

export class Counter extends Metric {
  private values = new Map<string, number>();
  constructor(name: string, help: string) {
    super(name, help, "counter");
  }
  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.values.get(key(labels)) ?? 0;
  }
  lines(): string[] {
    return [...this.values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ""} ${v}`);
  }
}

export class Gauge extends Metric {
  private values = new Map<string, number>();
  constructor(
    name: string,
    help: string,
    private readonly collector?: (g: Gauge) => void | Promise<void>,
  ) {
    super(name, help, "gauge");
  }
  set(labels: Labels, value: number): void {
    this.values.set(key(labels), value);
  }
  get(labels: Labels = {}): number | undefined {
    return this.values.get(key(labels));
  }
  override async collect(): Promise<void> {
    await this.collector?.(this);
  }
  lines(): string[] {
    return [...this.values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ""} ${v}`);
  }
}

export class Histogram extends Metric {
  private series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    name: string,
    help: string,
    readonly buckets: number[],
  ) {
    super(name, help, "histogram");
  }
  observe(labels: Labels, value: number): void {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    this.buckets.forEach((b, i) => {
      if (value <= b) s.counts[i]! += 1;
    });
    s.sum += value;
    s.count += 1;
  }
  lines(): string[] {
    const out: string[] = [];
    for (const [k, s] of this.series) {
      const sep = k ? `${k},` : "";
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket{${sep}le="${b}"} ${s.counts[i]}`));
      out.push(`${this.name}_bucket{${sep}le="+Inf"} ${s.count}`);
      out.push(`${this.name}_sum${k ? `{${k}}` : ""} ${s.sum}`);
      out.push(`${this.name}_count${k ? `{${k}}` : ""} ${s.count}`);
    }
    return out;
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];
  add<M extends Metric>(m: M): M {
    this.metrics.push(m);
    return m;
  }
  async render(): Promise<string> {
    await Promise.all(this.metrics.map((m) => m.collect()));
    return this.metrics.map((m) => m.render()).join("\n") + "\n";
  }
}

export interface ServiceMetrics {
  registry: Registry;
  proofSeconds: Histogram;
  requestToFulfilledSeconds: Histogram;
  chainLagBlocks: Gauge;
  jobsByState: Gauge;
  fulfilTxs: Counter;
  rpcErrors: Counter;
  jobsFailed: Counter;
  proofsMade: Counter;
  feesEarnedWei: Counter;
  proverBalanceWei: Gauge;
  proverCreditsWei: Gauge;
  /** On-chain request locks this node holds (filled by the lock policy). */
  locksHeld: Gauge;
  servedModels: Gauge;
  buildInfo: Gauge;
  isLeader: Gauge;
  /** Batched fulfilments (fulfillBatch) mined, by model and circuit batch size. */
  batchesTotal: Counter;
  /** Requests each batched fulfilment settled. */
  batchRequests: Histogram;
  /** The last batched fulfilment's gas per request, by model and batch size. */
  batchGasPerRequest: Gauge;
}

export function createMetrics(jobCounts: () => Promise<Record<string, number>>): ServiceMetrics {
  const registry = new Registry();
  const secs = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300];
  return {
    registry,
    jobsByState: registry.add(
      new Gauge("zkinfer_jobs", "Jobs in the store by state (the whole fleet's, on a shared store)", async (g) => {
        for (const [state, n] of Object.entries(await jobCounts())) g.set({ state }, n);
      }),
    ),
    proofSeconds: registry.add(new Histogram("zkinfer_proof_seconds", "Witness + proof time per job", secs)),
    requestToFulfilledSeconds: registry.add(
      new Histogram("zkinfer_request_to_fulfilled_seconds", "From seeing a request to its fulfilment being mined", secs),
    ),
    chainLagBlocks: registry.add(new Gauge("zkinfer_chain_lag_blocks", "Chain head minus the last block the watcher processed")),
    fulfilTxs: registry.add(new Counter("zkinfer_fulfil_transactions_total", "Fulfilment transactions by outcome")),
    rpcErrors: registry.add(new Counter("zkinfer_rpc_errors_total", "Failed JSON-RPC calls by component")),
    jobsFailed: registry.add(new Counter("zkinfer_jobs_failed_total", "Jobs marked failed, by reason class")),
    proofsMade: registry.add(new Counter("zkinfer_proofs_total", "Proofs this node made, by model")),
    feesEarnedWei: registry.add(new Counter("zkinfer_fees_earned_wei_total", "Fees of the requests this node fulfilled (wei)")),
    proverBalanceWei: registry.add(
      new Gauge("zkinfer_prover_balance_wei", "The signing account's balance (wei), read by the leader"),
    ),
    proverCreditsWei: registry.add(
      new Gauge("zkinfer_prover_credits_wei", "Fees credited to the signing account in the coordinator, withdrawable (wei)"),
    ),
    locksHeld: registry.add(new Gauge("zkinfer_locks_held", "On-chain request locks held by this prover")),
    servedModels: registry.add(new Gauge("zkinfer_served_model_info", "A model build this node serves (value 1)")),
    buildInfo: registry.add(new Gauge("zkinfer_build_info", "This node's zkinfer, Node and store backend (value 1)")),
    isLeader: registry.add(new Gauge("zkinfer_leader", "1 while this node leads the fleet (watches and sends), else 0")),
    batchesTotal: registry.add(
      new Counter("zkinfer_batches_total", "Batched fulfilments (one proof, several requests) mined, by model and batch size"),
    ),
    batchRequests: registry.add(
      new Histogram("zkinfer_batch_requests", "Requests settled by each batched fulfilment", [1, 2, 4, 8, 16, 32, 64]),
    ),
    batchGasPerRequest: registry.add(
      new Gauge("zkinfer_batch_gas_per_request", "Gas per request of the last batched fulfilment, by model and batch size"),
    ),
  };
}
