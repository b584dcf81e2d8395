import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { randomUUID } from "node:crypto";
import { DatabaseSync } from "node:sqlite";

/**
 * The durable job store: an embedded SQLite file (node:sqlite, no native addon). Every state change
 * is one statement or one transaction, so a process killed at any point leaves a consistent file;
 * `recover()` at start-up puts jobs that were being proved back in the queue.
 *
 * Chain jobs:     queued -> proving -> proved -> submitting -> fulfilled | failed
 * Off-chain jobs: queued -> proving -> done | failed
 */
export type JobKind = "chain" | "offchain";
export type JobState = "queued" | "proving" | "proved" | "submitting" | "fulfilled" | "done" | "failed";
export const JOB_STATES: JobState[] = ["queued", "proving", "proved", "submitting", "fulfilled", "done", "failed"];

export interface JobResult {
  outputsFixed: string[];
  outputsFloat: number[];
  proof: `0x${string}`;
  instances: string[];
  proveMs: number;
}

export interface Job {
  id: string;
  kind: JobKind;
  requestId: string | null;
  model: string;
  modelId: string | null;
  version: number | null;
  /** The input as fixed-point integers (decimal strings), as it is on-chain. */
  inputFixed: string[];
  deadline: number | null;
  fee: string | null;
  state: JobState;
  attempts: number;
  error: string | null;
  result: JobResult | null;
  txHash: string | null;
  txNonce: number | null;
  blockNumber: number | null;
  createdAt: number;
  updatedAt: number;
  provedAt: number | null;
  finishedAt: number | null;
}

interface Row {
  id: string;
  kind: JobKind;
  request_id: string | null;
  model: string;
  model_id: string | null;
  version: number | null;
  input_fixed: string;
  deadline: number | null;
  fee: string | null;
  state: JobState;
  attempts: number;
  error: string | null;
  result: string | null;
  tx_hash: string | null;
  tx_nonce: number | null;
  block_number: number | null;
  created_at: number;
  updated_at: number;
  proved_at: number | null;
  finished_at: number | null;
}

const toJob = (r: Row): Job => ({
  id: r.id,
  kind: r.kind,
  requestId: r.request_id,
  model: r.model,
  modelId: r.model_id,
  version: r.version,
  inputFixed: JSON.parse(r.input_fixed) as string[],
  deadline: r.deadline,
  fee: r.fee,
  state: r.state,
  attempts: r.attempts,
  error: r.error,
  result: r.result ? (JSON.parse(r.result) as JobResult) : null,
  txHash: r.tx_hash,
  txNonce: r.tx_nonce,
  blockNumber: r.block_number,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  provedAt: r.proved_at,
  finishedAt: r.finished_at,
});

export interface NewJob {
  kind: JobKind;
  requestId?: string | null;
  model: string;
  modelId?: string | null;
  version?: number | null;
  inputFixed: string[];
  deadline?: number | null;
  fee?: string | null;
  blockNumber?: number | null;
  /** Create the job already failed (a request the service cannot serve), with this reason. */
  failedReason?: string;
}

export class JobStore {
  readonly db: DatabaseSync;

  constructor(readonly path: string) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    this.db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = FULL;
      PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS jobs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        request_id TEXT UNIQUE,
        model TEXT NOT NULL,
        model_id TEXT,
        version INTEGER,
        input_fixed TEXT NOT NULL,
        deadline INTEGER,
        fee TEXT,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        result TEXT,
        tx_hash TEXT,
        tx_nonce INTEGER,
        block_number INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        proved_at INTEGER,
        finished_at INTEGER
      );
      CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, created_at);
      CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
  }

  close(): void {
    this.db.close();
  }

  /** Insert a job; a chain job whose request is already known is not inserted twice. */
  insert(job: NewJob): { job: Job; created: boolean } {
    if (job.requestId) {
      const existing = this.byRequestId(job.requestId);
      if (existing) return { job: existing, created: false };
    }
    const now = Date.now();
    const id = randomUUID();
    this.db
      .prepare(
        `INSERT INTO jobs (id, kind, request_id, model, model_id, version, input_fixed, deadline, fee, state, error, block_number, created_at, updated_at, finished_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        job.kind,
        job.requestId ?? null,
        job.model,
        job.modelId ?? null,
        job.version ?? null,
        JSON.stringify(job.inputFixed),
        job.deadline ?? null,
        job.fee ?? null,
        job.failedReason ? "failed" : "queued",
        job.failedReason ?? null,
        job.blockNumber ?? null,
        now,
        now,
        job.failedReason ? now : null,
      );
    return { job: this.get(id)!, created: true };
  }

  get(id: string): Job | undefined {
    const r = this.db.prepare("SELECT * FROM jobs WHERE id = ?").get(id) as Row | undefined;
    return r ? toJob(r) : undefined;
  }

  byRequestId(requestId: string): Job | undefined {
    const r = this.db.prepare("SELECT * FROM jobs WHERE request_id = ?").get(requestId) as Row | undefined;
    return r ? toJob(r) : undefined;
  }

  list(opts: { state?: JobState; kind?: JobKind; limit?: number } = {}): Job[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (opts.state) (where.push("state = ?"), args.push(opts.state));
    if (opts.kind) (where.push("kind = ?"), args.push(opts.kind));
    const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, opts.limit ?? 100) as unknown as Row[]).map(toJob);
  }

  countsByState(): Record<JobState, number> {
    const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    for (const r of this.db.prepare("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state").all() as {
      state: JobState;
      n: number;
    }[]) {
      counts[r.state] = r.n;
    }
    return counts;
  }

  /** Atomically take the oldest queued job for one of `models` (or any model) and mark it proving. */
  claimNext(models?: string[]): Job | undefined {
    const filter = models && models.length ? `AND model IN (${models.map(() => "?").join(",")})` : "";
    const r = this.db
      .prepare(
        `UPDATE jobs SET state = 'proving', attempts = attempts + 1, updated_at = ?
         WHERE id = (SELECT id FROM jobs WHERE state = 'queued' ${filter} ORDER BY created_at LIMIT 1)
         RETURNING *`,
      )
      .get(Date.now(), ...(models ?? [])) as Row | undefined;
    return r ? toJob(r) : undefined;
  }

  /** Put jobs whose prover died (left in 'proving') back in the queue. Returns how many. */
  recover(): number {
    const r = this.db.prepare("UPDATE jobs SET state = 'queued', updated_at = ? WHERE state = 'proving'").run(Date.now());
    return Number(r.changes);
  }

  requeue(id: string, error: string): void {
    this.db.prepare("UPDATE jobs SET state = 'queued', error = ?, updated_at = ? WHERE id = ?").run(error, Date.now(), id);
  }

  proved(id: string, result: JobResult, finalState: "proved" | "done"): void {
    const now = Date.now();
    this.db
      .prepare("UPDATE jobs SET state = ?, result = ?, error = NULL, proved_at = ?, updated_at = ?, finished_at = ? WHERE id = ?")
      .run(finalState, JSON.stringify(result), now, now, finalState === "done" ? now : null, id);
  }

  /** Record a signed fulfilment transaction before it is broadcast, so a restart knows about it. */
  submitting(id: string, txHash: string, nonce: number): void {
    this.db
      .prepare("UPDATE jobs SET state = 'submitting', tx_hash = ?, tx_nonce = ?, updated_at = ? WHERE id = ?")
      .run(txHash, nonce, Date.now(), id);
  }

  fulfilled(id: string, txHash: string | null, note?: string): void {
    const now = Date.now();
    this.db
      .prepare(
        "UPDATE jobs SET state = 'fulfilled', tx_hash = COALESCE(?, tx_hash), error = ?, updated_at = ?, finished_at = ? WHERE id = ?",
      )
      .run(txHash, note ?? null, now, now, id);
  }

  /** A fulfilment that did not land: back to 'proved' so the sender judges and sends it again. */
  requeueProved(id: string, note: string): void {
    this.db
      .prepare("UPDATE jobs SET state = 'proved', error = ?, tx_hash = NULL, tx_nonce = NULL, updated_at = ? WHERE id = ?")
      .run(note, Date.now(), id);
  }

  oldestProvedChainJob(): Job | undefined {
    const r = this.db
      .prepare("SELECT * FROM jobs WHERE state = 'proved' AND kind = 'chain' ORDER BY deadline, created_at LIMIT 1")
      .get() as Row | undefined;
    return r ? toJob(r) : undefined;
  }

  fail(id: string, reason: string): void {
    const now = Date.now();
    this.db
      .prepare("UPDATE jobs SET state = 'failed', error = ?, updated_at = ?, finished_at = ? WHERE id = ?")
      .run(reason, now, now, id);
  }

  getKv(key: string): string | undefined {
    return (this.db.prepare("SELECT value FROM kv WHERE key = ?").get(key) as { value: string } | undefined)?.value;
  }

  setKv(key: string, value: string): void {
    this.db
      .prepare("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
      .run(key, value);
  }

  /** Run `fn` in one IMMEDIATE transaction (all or nothing). */
  transaction<T>(fn: () => T): T {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const r = fn();
      this.db.exec("COMMIT");
      return r;
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
  }
}
