import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JobStore } from "../prover/src/service/store.js";
import type { PostgresServer } from "../test/helpers/postgres.js";
import { summarize, type Summary } from "./stats.js";

/** The queue's own cost per job on one backend: claim (with its lease) + one heartbeat + storing the result. */
export interface QueueCost {
  backend: "sqlite" | "postgres";
  /** Per job, in ms: claimNext + heartbeat + proved, one after another on one connection. */
  perJob: Summary;
}

/** `n` jobs through the queue with no proving: what a job costs the store, apart from EZKL. */
export async function measureQueueCost(where: string, n: number): Promise<QueueCost> {
  const store = await JobStore.open(where);
  try {
    for (let i = 0; i < n; i++)
      await store.insert({
        kind: "chain",
        requestId: String(i),
        model: "m",
        inputFixed: ["1", "2", "3"],
        deadline: 4e9,
        fee: "1",
      });
    const result = { outputsFixed: ["1"], outputsFloat: [1], proof: "0x00" as const, instances: ["1"], proveMs: 0 };
    const perJob: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const job = (await store.claimNext("bench", 15_000, ["m"]))!;
      await store.heartbeat(job.id, "bench", 15_000);
      await store.proved(job.id, "bench", result, "proved");
      perJob.push(performance.now() - t0);
    }
    return { backend: store.backend, perJob: summarize(perJob) };
  } finally {
    await store.close();
  }
}

/** Queue cost on a fresh SQLite file and a fresh database of `pg`, interleaved in rounds so both see the same load. */
export async function measureQueueCosts(pg: PostgresServer, n: number, rounds = 2): Promise<QueueCost[]> {
  const dir = mkdtempSync(join(tmpdir(), "zkinfer-bench-queue-"));
  const all: Record<string, number[]> = { sqlite: [], postgres: [] };
  try {
    for (let r = 0; r < rounds; r++) {
      for (const [backend, where] of [
        ["sqlite", join(dir, `q${r}.sqlite`)],
        ["postgres", pg.createDatabase(`bench_queue_${process.pid}_${r}`)],
      ] as const) {
        all[backend]!.push(...(await measureQueueCost(where, n)).perJob.values);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return (["sqlite", "postgres"] as const).map((backend) => ({ backend, perJob: summarize(all[backend]!) }));
}
